package embedded

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
)

// runAs is the unprivileged user the cluster runs as when billingd is root.
// A nil *runAs means "run as ourselves".
type runAs struct {
	name     string
	uid, gid uint32
	groups   []uint32
}

// resolveRunAs picks the user postgres runs as: nobody else unless we are
// root, in which case name (default "postgres") must be a non-root user.
func resolveRunAs(name string) (*runAs, error) {
	if os.Geteuid() != 0 {
		if name != "" {
			if u, err := user.Current(); err != nil || u.Username != name {
				return nil, fmt.Errorf("embedded postgres: RunAsUser %q needs billingd to run as root", name)
			}
		}
		return nil, nil
	}
	if name == "" {
		name = "postgres"
	}
	u, err := user.Lookup(name)
	if err != nil {
		return nil, fmt.Errorf("embedded postgres: running as root, so PostgreSQL must run as an unprivileged user, "+
			"but user %q was not found (%v); create it (Debian: apt install postgresql creates \"postgres\") or set RunAsUser", name, err)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err := errors.Join(err1, err2); err != nil {
		return nil, fmt.Errorf("embedded postgres: user %q: non-numeric uid/gid: %w", name, err)
	}
	if uid == 0 {
		return nil, fmt.Errorf("embedded postgres: RunAsUser %q is root; PostgreSQL refuses to run as root", name)
	}
	r := &runAs{name: name, uid: uint32(uid), gid: uint32(gid)}
	if ids, err := u.GroupIds(); err == nil {
		for _, s := range ids {
			if g, err := strconv.ParseUint(s, 10, 32); err == nil {
				r.groups = append(r.groups, uint32(g))
			}
		}
	}
	return r, nil
}

func (r *runAs) sysProcAttr() *syscall.SysProcAttr {
	a := &syscall.SysProcAttr{Setpgid: true}
	if r != nil {
		a.Credential = &syscall.Credential{Uid: r.uid, Gid: r.gid, Groups: r.groups}
	}
	return a
}

// canSearch reports whether r may traverse a directory with this stat.
func (r *runAs) canSearch(st *syscall.Stat_t) bool {
	mode := st.Mode
	switch {
	case st.Uid == r.uid:
		return mode&0o100 != 0
	case r.inGroup(st.Gid):
		return mode&0o010 != 0
	default:
		return mode&0o001 != 0
	}
}

func (r *runAs) inGroup(gid uint32) bool {
	if gid == r.gid {
		return true
	}
	for _, g := range r.groups {
		if g == gid {
			return true
		}
	}
	return false
}

// checkTraversable fails, naming the directory, if r cannot reach dir
// because dir or one of its parents lacks the search (x) permission for r.
// ACLs are not consulted.
func (r *runAs) checkTraversable(dir string) error {
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return err
	}
	for p := real; ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err != nil {
			return err
		}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok && !r.canSearch(st) {
			return fmt.Errorf("embedded postgres: PostgreSQL runs as user %q (billingd is root), which cannot enter %s (mode %v, owner uid %d); "+
				"make it traversable (chmod o+x %s) or choose a data dir under a traversable path", r.name, p, fi.Mode().Perm(), st.Uid, p)
		}
		if p == filepath.Dir(p) {
			return nil
		}
	}
}

// mkdirAll is os.MkdirAll that returns the directories it created.
func mkdirAll(dir string, perm fs.FileMode) ([]string, error) {
	var created []string
	var walk func(string) error
	walk = func(p string) error {
		if fi, err := os.Stat(p); err == nil {
			if !fi.IsDir() {
				return fmt.Errorf("%s is not a directory", p)
			}
			return nil
		}
		if parent := filepath.Dir(p); parent != p {
			if err := walk(parent); err != nil {
				return err
			}
		}
		if err := os.Mkdir(p, perm); err != nil && !errors.Is(err, fs.ErrExist) {
			return err
		} else if err == nil {
			created = append(created, p)
		}
		return nil
	}
	return created, walk(dir)
}

// chownTree makes r own everything under dir (no-op when r is nil or dir
// already belongs to r).
func (r *runAs) chownTree(dir string) error {
	if r == nil {
		return nil
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Uid == r.uid && st.Gid == r.gid {
		return nil
	}
	return filepath.WalkDir(dir, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, int(r.uid), int(r.gid))
	})
}
