package resource_test

import (
	"context"
	"errors"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/billingd/billingd/internal/apperr"
	"github.com/billingd/billingd/internal/clock"
	"github.com/billingd/billingd/internal/resource"
	"github.com/billingd/billingd/internal/resource/resourcetest"
	"github.com/google/uuid"
)

var ctx = context.Background()

func TestNewID(t *testing.T) {
	a, err := resource.NewID()
	resourcetest.Must(t, err)
	b, err := resource.NewID()
	resourcetest.Must(t, err)
	if a == b {
		t.Fatalf("two ids are both %q", a)
	}
	if u, err := uuid.Parse(a); err != nil || u.Version() != 7 {
		t.Fatalf("id %q: want a UUIDv7 (%v)", a, err)
	}
	var v apperr.Invalid
	resource.CheckID(&v, "id", a, true)
	resourcetest.Must(t, v.Err())
}

func TestNow(t *testing.T) {
	paris := time.FixedZone("CET", 3600)
	c := clock.NewFake(time.Date(2026, 3, 1, 13, 0, 0, 123456789, paris))
	got := resource.Now(c)
	want := time.Date(2026, 3, 1, 12, 0, 0, 123456000, time.UTC)
	if got != want {
		t.Fatalf("Now = %v, want %v", got, want)
	}
}

func TestChecks(t *testing.T) {
	long := strings.Repeat("é", 11) // 11 runes, 22 bytes
	for _, tc := range []struct {
		name  string
		check func(v *apperr.Invalid)
		want  []string // fields with violations
	}{
		{"id ok", func(v *apperr.Invalid) { resource.CheckID(v, "id", "a-1.b:c_d", true) }, nil},
		{"id empty optional", func(v *apperr.Invalid) { resource.CheckID(v, "id", "", false) }, nil},
		{"id empty required", func(v *apperr.Invalid) { resource.CheckID(v, "id", "", true) }, []string{"id"}},
		{"id bad start", func(v *apperr.Invalid) { resource.CheckID(v, "x_id", "-a", false) }, []string{"x_id"}},
		{"id longest", func(v *apperr.Invalid) { resource.CheckID(v, "id", strings.Repeat("a", 128), false) }, nil},
		{"id too long", func(v *apperr.Invalid) { resource.CheckID(v, "id", strings.Repeat("a", 129), false) }, []string{"id"}},
		{"text ok", func(v *apperr.Invalid) { resource.CheckText(v, "name", "abc", true, 3) }, nil},
		{"text counts runes", func(v *apperr.Invalid) { resource.CheckText(v, "name", long, true, 11) }, nil},
		{"text too long", func(v *apperr.Invalid) { resource.CheckText(v, "name", long, true, 10) }, []string{"name"}},
		{"text required", func(v *apperr.Invalid) { resource.CheckText(v, "name", "", true, 10) }, []string{"name"}},
		{"text optional", func(v *apperr.Invalid) { resource.CheckText(v, "name", "", false, 10) }, nil},
		{"request id empty", func(v *apperr.Invalid) { resource.CheckRequestID(v, "") }, nil},
		{"request id ok", func(v *apperr.Invalid) { resource.CheckRequestID(v, "0192b8a0-7c1e-7d4f-9a3b-2c1d0e9f8a7b") }, nil},
		{"request id braces", func(v *apperr.Invalid) { resource.CheckRequestID(v, "{0192b8a0-7c1e-7d4f-9a3b-2c1d0e9f8a7b}") }, []string{"request_id"}},
		{"request id not uuid", func(v *apperr.Invalid) { resource.CheckRequestID(v, "r1") }, []string{"request_id"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var v apperr.Invalid
			tc.check(&v)
			if tc.want == nil {
				resourcetest.Must(t, v.Err())
				return
			}
			resourcetest.WantFields(t, v.Err(), tc.want...)
		})
	}
}

func TestFieldMask(t *testing.T) {
	m := resource.FieldMask{Mutable: []string{"display_name", "labels"}, Immutable: []string{"id"}}
	var v apperr.Invalid
	m.Check(&v, []string{"display_name", "labels"})
	resourcetest.Must(t, v.Err())

	m.Check(&v, []string{"id", "nope", "display_name"})
	e, _ := apperr.As(v.Err())
	resourcetest.Same(t, e.Violations, []apperr.FieldViolation{
		{Field: "update_mask", Description: `field "id" cannot be changed`},
		{Field: "update_mask", Description: `unknown field "nope"`},
	})

	resourcetest.Same(t, m.Effective(nil), []string{"display_name", "labels"})
	resourcetest.Same(t, m.Effective([]string{"labels"}), []string{"labels"})
}

// fakeStore is an in-memory Store whose transactions apply their request
// log writes and creates only when fn succeeds.
type fakeStore struct {
	requests map[string][2]string // request id → kind, resource id
	things   map[string]string    // id → value
	// beforeCommit, when set, runs before a transaction commits and may fail it.
	beforeCommit func(s *fakeStore) error
}

func newFakeStore() *fakeStore {
	return &fakeStore{requests: map[string][2]string{}, things: map[string]string{}}
}

func (s *fakeStore) LookupRequest(_ context.Context, requestID string) (string, string, bool, error) {
	r, ok := s.requests[requestID]
	return r[0], r[1], ok, nil
}

func (s *fakeStore) SaveRequest(_ context.Context, requestID, kind, resourceID string) error {
	if _, ok := s.requests[requestID]; ok {
		return apperr.AlreadyExists("request", requestID)
	}
	s.requests[requestID] = [2]string{kind, resourceID}
	return nil
}

func (s *fakeStore) InTx(_ context.Context, fn func(tx *fakeStore) error) error {
	tx := &fakeStore{requests: maps.Clone(s.requests), things: maps.Clone(s.things)}
	if err := fn(tx); err != nil {
		return err
	}
	if s.beforeCommit != nil {
		if err := s.beforeCommit(s); err != nil {
			return err
		}
	}
	s.requests, s.things = tx.requests, tx.things
	return nil
}

func (s *fakeStore) get(_ context.Context, id string) (string, error) {
	v, ok := s.things[id]
	if !ok {
		return "", apperr.NotFound("thing", id)
	}
	return v, nil
}

// create returns a create func storing value under id.
func create(id, value string) func(tx *fakeStore) (string, string, error) {
	return func(tx *fakeStore) (string, string, error) {
		if _, ok := tx.things[id]; ok {
			return "", "", apperr.AlreadyExists("thing", id)
		}
		tx.things[id] = value
		return value, id, nil
	}
}

const req = "0192b8a0-7c1e-7d4f-9a3b-2c1d0e9f8a7b"

func TestCreateOnce(t *testing.T) {
	t.Run("no request id", func(t *testing.T) {
		s := newFakeStore()
		got, err := resource.CreateOnce(ctx, s, "", "thing", create("a", "A"), s.get)
		resourcetest.Must(t, err)
		resourcetest.Same(t, got, "A")
		resourcetest.Same(t, len(s.requests), 0)
	})
	t.Run("replay returns the first", func(t *testing.T) {
		s := newFakeStore()
		got, err := resource.CreateOnce(ctx, s, req, "thing", create("a", "A"), s.get)
		resourcetest.Must(t, err)
		resourcetest.Same(t, got, "A")
		s.things["a"] = "A, changed since"
		got, err = resource.CreateOnce(ctx, s, req, "thing", create("b", "B"), s.get)
		resourcetest.Must(t, err)
		resourcetest.Same(t, got, "A, changed since")
		resourcetest.Same(t, s.things, map[string]string{"a": "A, changed since"})
	})
	t.Run("request id of another kind", func(t *testing.T) {
		s := newFakeStore()
		_, err := resource.CreateOnce(ctx, s, req, "thing", create("a", "A"), s.get)
		resourcetest.Must(t, err)
		_, err = resource.CreateOnce(ctx, s, req, "other", create("b", "B"), s.get)
		resourcetest.WantKind(t, err, apperr.KindAlreadyExists)
		resourcetest.Same(t, s.things, map[string]string{"a": "A"})
	})
	t.Run("failed create records nothing", func(t *testing.T) {
		s := newFakeStore()
		boom := errors.New("boom")
		_, err := resource.CreateOnce(ctx, s, req, "thing", func(tx *fakeStore) (string, string, error) {
			tx.things["a"] = "A"
			return "", "", boom
		}, s.get)
		if !errors.Is(err, boom) {
			t.Fatalf("error = %v, want boom", err)
		}
		resourcetest.Same(t, len(s.requests)+len(s.things), 0)
		got, err := resource.CreateOnce(ctx, s, req, "thing", create("a", "A"), s.get)
		resourcetest.Must(t, err)
		resourcetest.Same(t, got, "A")
	})
	t.Run("taken id without request id", func(t *testing.T) {
		s := newFakeStore()
		_, err := resource.CreateOnce(ctx, s, "", "thing", create("a", "A"), s.get)
		resourcetest.Must(t, err)
		_, err = resource.CreateOnce(ctx, s, "", "thing", create("a", "B"), s.get)
		resourcetest.WantKind(t, err, apperr.KindAlreadyExists)
	})
	t.Run("lost race returns the winner's", func(t *testing.T) {
		s := newFakeStore()
		s.beforeCommit = func(s *fakeStore) error {
			// Another create with the same request id commits first.
			s.beforeCommit = nil
			s.things["w"] = "winner"
			s.requests[req] = [2]string{"thing", "w"}
			return apperr.AlreadyExists("request", req)
		}
		got, err := resource.CreateOnce(ctx, s, req, "thing", create("a", "A"), s.get)
		resourcetest.Must(t, err)
		resourcetest.Same(t, got, "winner")
		resourcetest.Same(t, s.things, map[string]string{"w": "winner"})
	})
	t.Run("lost race to another kind", func(t *testing.T) {
		s := newFakeStore()
		s.beforeCommit = func(s *fakeStore) error {
			s.beforeCommit = nil
			s.requests[req] = [2]string{"other", "w"}
			return apperr.AlreadyExists("request", req)
		}
		_, err := resource.CreateOnce(ctx, s, req, "thing", create("a", "A"), s.get)
		resourcetest.WantKind(t, err, apperr.KindAlreadyExists)
	})
}
