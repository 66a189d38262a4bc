// Command vendorproto re-creates third_party/proto: the third-party .proto
// files that billingd's protos import, taken from Go modules only (the Buf
// Schema Registry is not reachable from the build machines).
//
//   - Files shipped as .proto in a Go module are copied from the module cache
//     (go mod download fetches them through the Go module proxy).
//   - Files not shipped as .proto anywhere in a Go module (buf/validate and
//     google/api/field_behavior) are printed back from the file descriptor
//     compiled into the Go package that billingd's generated code imports, so
//     the vendored schema and the Go runtime types cannot drift apart.
//
// Run it from tools/ (make vendor-protos does): go run ./vendorproto -out ../third_party/proto
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"

	validatepb "buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go/buf/validate"
	"github.com/jhump/protoreflect/v2/protoprint"
	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// grpcGatewayV1 holds the last published copy of googleapis' google/api
// protos inside a Go module (third_party/googleapis). It is not a dependency
// of anything, only a source of files, so its version is pinned here.
const grpcGatewayV1 = "github.com/grpc-ecosystem/grpc-gateway@v1.16.0"

type copied struct {
	module  string // module@version, or a module path resolved through tools/go.mod
	from    string // directory inside the module
	files   []string
	to      string // directory under -out
	license string // file inside the module holding the licence text
	spdx    string
}

var copies = []copied{
	{
		module:  grpcGatewayV1,
		from:    "third_party/googleapis/google/api",
		files:   []string{"annotations.proto", "http.proto", "httpbody.proto"},
		to:      "google/api",
		license: "third_party/googleapis/LICENSE",
		spdx:    "Apache-2.0",
	},
	{
		module:  "github.com/grpc-ecosystem/grpc-gateway/v2", // version from tools/go.mod (same as the plugins)
		from:    "protoc-gen-openapiv2/options",
		files:   []string{"annotations.proto", "openapiv2.proto"},
		to:      "protoc-gen-openapiv2/options",
		license: "LICENSE",
		spdx:    "BSD-3-Clause",
	},
}

type printed struct {
	fd     protoreflect.FileDescriptor
	module string // Go module that compiles fd in; version from build info
	spdx   string
}

var prints = []printed{
	{validatepb.File_buf_validate_validate_proto, "buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go", "Apache-2.0"},
	{annotations.File_google_api_field_behavior_proto, "google.golang.org/genproto/googleapis/api", "Apache-2.0"},
}

type modInfo struct {
	Path, Version, Dir string
}

func goJSON(dir string, args ...string) modInfo {
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		log.Fatalf("go %s: %v", strings.Join(args, " "), err)
	}
	var m modInfo
	if err := json.Unmarshal(out, &m); err != nil {
		log.Fatalf("go %s: %v", strings.Join(args, " "), err)
	}
	if m.Dir == "" {
		log.Fatalf("go %s: module not downloaded", strings.Join(args, " "))
	}
	return m
}

func resolve(module string) modInfo {
	if strings.Contains(module, "@") {
		// Not in tools/go.mod: download that exact version from outside any
		// module, so tools/go.sum is left alone.
		tmp, err := os.MkdirTemp("", "vendorproto")
		if err != nil {
			log.Fatal(err)
		}
		defer os.RemoveAll(tmp)
		return goJSON(tmp, "mod", "download", "-json", module)
	}
	return goJSON("", "mod", "download", "-json", module+"@"+depVersion(module))
}

func depVersion(module string) string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		log.Fatal("no build info: run with go run from tools/")
	}
	for _, d := range bi.Deps {
		if d.Path == module {
			if d.Replace != nil {
				d = d.Replace
			}
			return d.Version
		}
	}
	// Not linked into this program: ask the tools module.
	cmd := exec.Command("go", "list", "-m", "-f", "{{.Version}}", module)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		log.Fatalf("go list -m %s: %v", module, err)
	}
	return strings.TrimSpace(string(out))
}

func main() {
	log.SetFlags(0)
	out := flag.String("out", "../third_party/proto", "output directory (re-created)")
	flag.Parse()

	if err := os.RemoveAll(*out); err != nil {
		log.Fatal(err)
	}
	var readme bytes.Buffer
	readme.WriteString(readmeHead)

	for _, c := range copies {
		m := resolve(c.module)
		dst := filepath.Join(*out, filepath.FromSlash(c.to))
		for _, f := range c.files {
			data, err := os.ReadFile(filepath.Join(m.Dir, filepath.FromSlash(c.from), f))
			if err != nil {
				log.Fatal(err)
			}
			write(filepath.Join(dst, f), data)
			fmt.Fprintf(&readme, "| `%s/%s` | copied from `%s@%s`, `%s/%s` | %s |\n", c.to, f, m.Path, m.Version, c.from, f, c.spdx)
		}
		lic, err := os.ReadFile(filepath.Join(m.Dir, filepath.FromSlash(c.license)))
		if err != nil {
			log.Fatal(err)
		}
		write(filepath.Join(dst, "LICENSE"), lic)
	}

	p := protoprint.Printer{}
	for _, pr := range prints {
		var buf bytes.Buffer
		if err := p.PrintProtoFile(pr.fd, &buf); err != nil {
			log.Fatalf("%s: %v", pr.fd.Path(), err)
		}
		m := resolve(pr.module)
		header := fmt.Sprintf("// Code generated by tools/vendorproto from the descriptor compiled into\n// %s@%s. DO NOT EDIT.\n// Licence: %s (see LICENSE in this directory).\n\n", m.Path, m.Version, pr.spdx)
		dst := filepath.Join(*out, filepath.FromSlash(pr.fd.Path()))
		write(dst, append([]byte(header), buf.Bytes()...))
		fmt.Fprintf(&readme, "| `%s` | printed from the descriptor in `%s@%s` | %s |\n", pr.fd.Path(), m.Path, m.Version, pr.spdx)
		licPath := filepath.Join(filepath.Dir(dst), "LICENSE")
		if _, err := os.Stat(licPath); err != nil {
			lic, err := os.ReadFile(filepath.Join(m.Dir, "LICENSE"))
			if err != nil {
				log.Fatal(err)
			}
			write(licPath, lic)
		}
	}
	readme.WriteString(readmeTail)
	write(filepath.Join(*out, "README.md"), readme.Bytes())
}

func write(path string, data []byte) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		log.Fatal(err)
	}
}

const readmeHead = `# Vendored third-party protos

Generated by ` + "`make vendor-protos`" + ` (tools/vendorproto); do not edit by hand, re-run it.
Everything comes from Go modules through the Go module proxy, because the Buf Schema Registry
is not reachable. buf.yaml lists this directory as a second module, excluded from lint and
breaking checks; buf.gen.yaml does not generate code for it: billingd's generated Go code
imports the existing Go packages of these protos (their own ` + "`go_package`" + ` options):

- google/api → google.golang.org/genproto/googleapis/api/annotations (httpbody → .../api/httpbody)
- protoc-gen-openapiv2/options → github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-openapiv2/options
- buf/validate → buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go/buf/validate

Printed files carry no comments (compiled descriptors have no source info) but compile to the
same descriptor. Each directory holds the LICENSE of its source.

| file | source | licence |
| --- | --- | --- |
`

const readmeTail = `
Note: google/api/field_behavior.proto is not in grpc-gateway v1.16.0's copy of googleapis, and
buf/validate/validate.proto is not shipped as a file in any Go module; both are therefore printed.
`
