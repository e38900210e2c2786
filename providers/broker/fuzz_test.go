package broker

import (
	"encoding/json"
	"errors"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"unicode"

	"github.com/oidc-exchange/oidc-exchange/exchange"
	"github.com/oidc-exchange/oidc-exchange/providers/internal/upstream"
)

// FuzzParseTokenResponse checks that whatever a broker answers, the parser
// does not panic, an accepted answer has a printable token and sane
// fields, and an error never quotes the token.
func FuzzParseTokenResponse(f *testing.F) {
	for _, s := range []string{
		okAnswer,
		`{"access_token":"t","expires_in":"3600"}`,
		`{"access_token":"t","expires_in":1e3,"token_type":"n_a"}`,
		`{"access_token":"t","expires_in":-1}`,
		`{"access_token":"t","expires_in":1e400}`,
		`{"access_token":"t\n","token_type":"Bearer"}`,
		`{"access_token":null}`,
		`{"access_token":"t","issued_token_type":"not a uri"}`,
		`{"access_token":"t","refresh_token":5}`,
		`[]`, `null`, `{`, ``, `{"a":1} {}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := parseTokenResponse(body)
		if err != nil {
			if r != nil {
				t.Fatalf("error %v with a result", err)
			}
			var inv *invalidResponseError
			if !errors.As(err, &inv) {
				t.Fatalf("error %T is not an invalidResponseError", err)
			}
			if strings.ContainsFunc(err.Error(), unicode.IsControl) {
				t.Fatalf("error has control characters: %q", err)
			}
			return
		}
		tok := r.AccessToken.Reveal()
		if !upstream.IsVSCHAR(tok) {
			t.Fatalf("accepted token %q is not VSCHAR", tok)
		}
		if r.ExpiresIn < 0 || r.ExpiresIn > maxExpiresIn {
			t.Fatalf("expires_in %d out of range", r.ExpiresIn)
		}
		if r.TokenType != "" && r.TokenType != "Bearer" && r.TokenType != "N_A" {
			t.Fatalf("token_type %q", r.TokenType)
		}
		if r.IssuedTokenType != "" && !schemeURIRE().MatchString(r.IssuedTokenType) {
			t.Fatalf("issued_token_type %q", r.IssuedTokenType)
		}
	})
}

// FuzzParseExtraParams checks that accepted parameters are well-formed,
// never reserved, and that every error is an input error.
func FuzzParseExtraParams(f *testing.F) {
	for _, s := range []string{
		"connector_id=github", "# c\n a = b \r\n", "grant_type=x", "subjectToken=y", "a", "=b", "k=\x00", "k=v\nk=w",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		ps, err := ParseExtraParams(text)
		if err != nil {
			if ps != nil || !errors.Is(err, exchange.ErrInvalidInput) {
				t.Fatalf("ParseExtraParams() = %v, %v", ps, err)
			}
			return
		}
		if len(ps) > MaxExtraParams {
			t.Fatalf("%d params accepted", len(ps))
		}
		for _, p := range ps {
			if err := validateParam(p, ""); err != nil {
				t.Fatalf("accepted param fails validation: %v", err)
			}
			if strings.TrimSpace(p.Value) != p.Value || strings.ContainsFunc(p.Key+p.Value, unicode.IsControl) {
				t.Fatalf("param %q=%q not trimmed or has control characters", p.Key, p.Value)
			}
			for _, std := range []string{"grant_type", "subject_token", "audience", "resource", "scope", "client_secret", "requested_token_type"} {
				if strings.EqualFold(strings.ReplaceAll(p.Key, "_", ""), strings.ReplaceAll(std, "_", "")) {
					t.Fatalf("reserved %q accepted", p.Key)
				}
			}
		}
	})
}

// FuzzEncodeBody checks that every format round-trips any parameter
// values.
func FuzzEncodeBody(f *testing.F) {
	f.Add("a", "b&c=d", "ü\"\\<>")
	f.Fuzz(func(t *testing.T, v1, v2, v3 string) {
		ps := []Param{{"audience", v1}, {"audience", v2}, {"x", v3}}
		for _, format := range RequestFormats() {
			body, _, err := encodeBody(format, ps)
			if err != nil {
				t.Fatal(err)
			}
			if format == FormatForm {
				got, err := url.ParseQuery(string(body))
				want := url.Values{"audience": {v1, v2}, "x": {v3}}
				if err != nil || !reflect.DeepEqual(got, want) {
					t.Fatalf("form body %q parses to %v, %v; want %v", body, got, err, want)
				}
				continue
			}
			if !json.Valid(body) {
				t.Fatalf("%s body is not JSON: %s", format, body)
			}
		}
	})
}
