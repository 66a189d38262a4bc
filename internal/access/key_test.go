package access

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/billingd/billingd/internal/apperr"
)

func TestNewSecret(t *testing.T) {
	a, err := NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewSecret()
	if a == b {
		t.Fatal("two secrets are equal")
	}
	if !regexp.MustCompile(`^bk_[a-z2-7]{52}$`).MatchString(a) {
		t.Fatalf("secret %q: want bk_ and 52 base32 characters", a)
	}
	if p := shownPrefix(a); p != a[:11] {
		t.Errorf("prefix = %q", p)
	}
	if p := shownPrefix(strings.Repeat("x", 40)); p != "" {
		t.Errorf("an operator's secret keeps no prefix, got %q", p)
	}
	if h := HashSecret(a); len(h) != 32 || string(h) == string(HashSecret(b)) {
		t.Error("hash is not a distinct SHA-256")
	}
}

func TestCreateKeyInputValidate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		key    Key
		fields []string
	}{
		{"reader", Key{DisplayName: "r", Role: RoleReader, CustomerID: "acme"}, nil},
		{"collector limits", Key{DisplayName: "c", Role: RoleCollector, Sources: []string{"vc01"}, Sites: []string{"ams"}}, nil},
		{"no role", Key{DisplayName: "x"}, []string{"role"}},
		{"scoped admin", Key{DisplayName: "x", Role: RoleAdmin, CustomerID: "acme"}, []string{"customer_id"}},
		{"limits on reader", Key{DisplayName: "x", Role: RoleReader, Sources: []string{"a"}}, []string{"sources"}},
		{"repeated source", Key{DisplayName: "x", Role: RoleCollector, Sources: []string{"a", "a"}}, []string{"sources"}},
		{"no name", Key{Role: RoleReader}, []string{"display_name"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CreateKeyInput{Key: tc.key}.Validate()
			e, _ := apperr.As(err)
			var got []string
			if e != nil {
				for _, v := range e.Violations {
					got = append(got, v.Field)
				}
			}
			if strings.Join(got, ",") != strings.Join(tc.fields, ",") {
				t.Fatalf("violations on %v, want %v (%v)", got, tc.fields, err)
			}
		})
	}
}

func TestKeyUsable(t *testing.T) {
	now := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	if err := (Key{ExpireTime: now.Add(time.Second)}).Usable(now); err != nil {
		t.Errorf("not yet expired: %v", err)
	}
	if err := (Key{ExpireTime: now}).Usable(now); apperr.KindOf(err) != apperr.KindUnauthenticated {
		t.Errorf("expired at now: %v", err)
	}
	if err := (Key{RevokeTime: now}).Usable(now); apperr.KindOf(err) != apperr.KindUnauthenticated {
		t.Errorf("revoked: %v", err)
	}
}
