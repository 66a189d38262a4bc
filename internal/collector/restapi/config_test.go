package restapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/billingd/billingd/internal/collector"
	"github.com/billingd/billingd/internal/collector/restapi"
)

// TestCommonValidate: every problem of the shared settings is reported at
// once, page_size against the product's limit and default, and a valid
// block gives no error.
func TestCommonValidate(t *testing.T) {
	pages := restapi.Pages{Max: 500, Default: 200}
	valid := restapi.Common{Endpoint: restapi.Endpoint{URL: "https://x"}, Customers: restapi.Customers{Use: "name"}}
	if err := valid.Validate(pages, nil); err != nil {
		t.Errorf("valid: %v", err)
	}
	bad := restapi.Common{Site: "a:b", PageSize: 501}
	err := bad.Validate(pages, nil, io.EOF)
	want := []string{"url is required", `site "a:b": at most 128 characters, no ':' or '%'`, "EOF",
		"page_size 501 must be in 1..500 (0: 200)", "customers: give at least one of map, pattern, use"}
	if err == nil || err.Error() != strings.Join(want, "\n") {
		t.Errorf("err = %v\nwant %q", err, want)
	}
}

// TestCredentialsValidate: username and password, or api_key, not both
// and not neither.
func TestCredentialsValidate(t *testing.T) {
	pw, key := collector.NewSecret("pw", "test"), collector.NewSecret("key", "test")
	for _, tc := range []struct {
		c    restapi.Credentials
		want string
	}{
		{restapi.Credentials{Username: "u", Password: pw}, ""},
		{restapi.Credentials{APIKey: key}, ""},
		{restapi.Credentials{Username: "u", Password: pw, APIKey: key}, "not both"},
		{restapi.Credentials{Username: "u"}, "username and password"},
		{restapi.Credentials{}, "username and password"},
	} {
		err := tc.c.Validate()
		if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%+v: err %v, want %q", tc.c, err, tc.want)
		}
	}
}

// TestPostLogin: url.Values go as a form, anything else as JSON, neither
// with the stored credential, and the answer is decoded.
func TestPostLogin(t *testing.T) {
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = append(got, r.Method+" "+r.URL.Path+" "+r.Header.Get("Content-Type")+" "+r.Header.Get("Authorization")+"|"+string(b))
		_ = json.NewEncoder(w).Encode(map[string]string{"token": "t1"})
	}))
	defer srv.Close()
	c, err := restapi.NewClient(srv.URL, srv.Client(), func(context.Context, *restapi.Client) (string, error) { return "stored", nil })
	if err != nil {
		t.Fatal(err)
	}
	var tok struct{ Token string }
	if err := c.PostLogin(context.Background(), "/form", url.Values{"a": {"1"}}, &tok); err != nil || tok.Token != "t1" {
		t.Errorf("form: %v, token %q", err, tok.Token)
	}
	if err := c.PostLogin(context.Background(), "/json", map[string]string{"a": "1"}, &tok); err != nil {
		t.Errorf("json: %v", err)
	}
	want := []string{"POST /form application/x-www-form-urlencoded |a=1", `POST /json application/json |{"a":"1"}`}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("requests %q\nwant %q", got, want)
	}
}
