package exchange

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/oidc-exchange/oidc-exchange/internal/oidcfake"
)

const (
	grammarAudience = "sts.amazonaws.com"
	grammarHeader   = `{"alg":"RS256","kid":"test-key-1","typ":"JWT"}`
)

// grammarIssuer signs the tokens of the grammar tests; it serves nothing
// they use.
func grammarIssuer(tb testing.TB) *oidcfake.Issuer {
	tb.Helper()
	is, err := oidcfake.NewIssuer("")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(is.Close)
	return is
}

// payloadJSON is a valid GitHub-shaped payload as text, so a test can add
// what json.Marshal would never write.
func payloadJSON(iss string, now time.Time, extra string) string {
	p := fmt.Sprintf(`{"iss":%q,"aud":%q,"sub":"repo:octo-org/octo-repo:ref:refs/heads/main","iat":%d,"nbf":%d,"exp":%d,"repository":"octo-org/octo-repo"`,
		iss, grammarAudience, now.Unix(), now.Add(-5*time.Minute).Unix(), now.Add(5*time.Minute).Unix())
	if extra != "" {
		p += "," + extra
	}
	return p + "}"
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// TestParseToken checks each rule of the grammar with a token that breaks
// only that rule; all tokens are properly signed, so only the grammar can
// refuse them.
func TestParseToken(t *testing.T) {
	t.Parallel()
	is := grammarIssuer(t)
	now := time.Now()
	good := is.SignRaw([]byte(grammarHeader), []byte(payloadJSON(is.URL, now, "")))
	parts := strings.Split(good, ".")
	tests := []struct {
		name, token, want string // want "" means accepted
	}{
		{"valid", good, ""},
		{"lower-case typ", is.SignRaw([]byte(`{"alg":"RS256","kid":"k","typ":"jwt"}`), []byte(payloadJSON(is.URL, now, ""))), ""},
		{"no typ, no kid", is.SignRaw([]byte(`{"alg":"RS256"}`), []byte(payloadJSON(is.URL, now, ""))), ""},
		{"audience array of one", is.SignRaw([]byte(grammarHeader), []byte(strings.Replace(payloadJSON(is.URL, now, ""), `"aud":"sts.amazonaws.com"`, `"aud":["sts.amazonaws.com"]`, 1))), ""},
		{"nested duplicate-free objects", is.SignRaw([]byte(grammarHeader), []byte(payloadJSON(is.URL, now, `"x":{"a":1,"b":[{"a":1},{"a":2}]}`))), ""},
		{"fractional exp", is.SignRaw([]byte(grammarHeader), []byte(strings.Replace(payloadJSON(is.URL, now, ""), fmt.Sprintf(`"exp":%d`, now.Add(5*time.Minute).Unix()), fmt.Sprintf(`"exp":%d.5`, now.Add(5*time.Minute).Unix()), 1))), ""},

		{"alg none", b64(`{"alg":"none"}`) + "." + parts[1] + ".", "is empty"},
		{"alg none with a signature", is.SignRaw([]byte(`{"alg":"none","typ":"JWT"}`), []byte(payloadJSON(is.URL, now, ""))), `signed with "none"`},
		{"alg HS256", is.SignRaw([]byte(`{"alg":"HS256"}`), []byte(payloadJSON(is.URL, now, ""))), `signed with "HS256"`},
		{"alg RS512", is.SignRaw([]byte(`{"alg":"RS512"}`), []byte(payloadJSON(is.URL, now, ""))), `signed with "RS512"`},
		{"alg rs256 lower case", is.SignRaw([]byte(`{"alg":"rs256"}`), []byte(payloadJSON(is.URL, now, ""))), `signed with "rs256"`},
		{"alg missing", is.SignRaw([]byte(`{"typ":"JWT"}`), []byte(payloadJSON(is.URL, now, ""))), "no alg"},
		{"alg not a string", is.SignRaw([]byte(`{"alg":256}`), []byte(payloadJSON(is.URL, now, ""))), "no alg"},
		{"crit", is.SignRaw([]byte(`{"alg":"RS256","crit":["b64"],"b64":false}`), []byte(payloadJSON(is.URL, now, ""))), `"crit"`},
		{"jku", is.SignRaw([]byte(`{"alg":"RS256","jku":"https://evil.example/keys"}`), []byte(payloadJSON(is.URL, now, ""))), `"jku"`},
		{"x5u", is.SignRaw([]byte(`{"alg":"RS256","x5u":"https://evil.example/cert"}`), []byte(payloadJSON(is.URL, now, ""))), `"x5u"`},
		{"jwk", is.SignRaw([]byte(`{"alg":"RS256","jwk":{"kty":"RSA","n":"AQAB","e":"AQAB"}}`), []byte(payloadJSON(is.URL, now, ""))), `"jwk"`},
		{"x5c", is.SignRaw([]byte(`{"alg":"RS256","x5c":["MIIB"]}`), []byte(payloadJSON(is.URL, now, ""))), `"x5c"`},
		{"zip", is.SignRaw([]byte(`{"alg":"RS256","zip":"DEF"}`), []byte(payloadJSON(is.URL, now, ""))), `"zip"`},
		{"typ JWE", is.SignRaw([]byte(`{"alg":"RS256","typ":"JOSE+JSON"}`), []byte(payloadJSON(is.URL, now, ""))), "typ"},
		{"kid a number", is.SignRaw([]byte(`{"alg":"RS256","kid":1}`), []byte(payloadJSON(is.URL, now, ""))), "kid is not a string"},
		{"header duplicate alg", is.SignRaw([]byte(`{"alg":"none","alg":"RS256"}`), []byte(payloadJSON(is.URL, now, ""))), `"alg" twice`},
		{"header ALG variant", is.SignRaw([]byte(`{"alg":"RS256","ALG":"none"}`), []byte(payloadJSON(is.URL, now, ""))), "differ only in case"},
		{"header Kid alone", is.SignRaw([]byte(`{"alg":"RS256","Kid":"k"}`), []byte(payloadJSON(is.URL, now, ""))), `"kid" in another case`},

		{"two parts", parts[0] + "." + parts[1], "2 dot-separated parts"},
		{"four parts", good + ".x", "4 dot-separated parts"},
		{"JWS JSON serialization", `{"payload":"` + parts[1] + `","signatures":[{"protected":"` + parts[0] + `","signature":"` + parts[2] + `"}]}`, "JSON serialization"},
		{"padded base64", parts[0] + "=." + parts[1] + "." + parts[2], "base64url"},
		{"line break in a part", parts[0] + "." + parts[1][:10] + "\n" + parts[1][10:] + "." + parts[2], "outside the base64url alphabet"},
		{"CR LF in a part", parts[0] + "." + parts[1] + "." + parts[2][:10] + "\r\n" + parts[2][10:], "outside the base64url alphabet"},
		{"standard base64 alphabet", parts[0] + "." + parts[1] + "." + strings.NewReplacer("-", "+", "_", "/").Replace(parts[2]) + "+", "base64url"},
		{"short signature", parts[0] + "." + parts[1] + "." + b64("sig"), "signature is 3 bytes"},
		{"empty payload", parts[0] + ".." + parts[2], "payload is empty"},
		{"oversize", parts[0] + "." + b64(payloadJSON(is.URL, now, `"pad":"`+strings.Repeat("a", maxTokenSize)+`"`)) + "." + parts[2], "more than"},
		{"header not JSON", b64("alg=RS256") + "." + parts[1] + "." + parts[2], "header is not JSON"},
		{"header an array", b64(`["RS256"]`) + "." + parts[1] + "." + parts[2], "not a JSON object"},
		{"trailing data after the payload", is.SignRaw([]byte(grammarHeader), []byte(payloadJSON(is.URL, now, "")+`{"exp":1}`)), "data after"},
		{"invalid UTF-8", is.SignRaw([]byte(grammarHeader), []byte(payloadJSON(is.URL, now, `"x":"`+"\xff"+`"`))), "not valid UTF-8"},
		{"too deep", is.SignRaw([]byte(grammarHeader), []byte(payloadJSON(is.URL, now, `"x":`+strings.Repeat("[", 20)+strings.Repeat("]", 20)))), "deeper than"},

		{"duplicate exp, later in the future", is.SignRaw([]byte(grammarHeader), []byte(payloadJSON(is.URL, now, fmt.Sprintf(`"exp":%d`, now.Add(time.Hour).Unix())))), `"exp" twice`},
		{"EXP beside exp", is.SignRaw([]byte(grammarHeader), []byte(payloadJSON(is.URL, now, fmt.Sprintf(`"EXP":%d`, now.Add(time.Hour).Unix())))), "differ only in case"},
		{"NBF beside nbf", is.SignRaw([]byte(grammarHeader), []byte(payloadJSON(is.URL, now, `"NBF":0`))), "differ only in case"},
		{"Aud alone", is.SignRaw([]byte(grammarHeader), []byte(strings.Replace(payloadJSON(is.URL, now, ""), `"aud"`, `"Aud"`, 1))), `"aud" in another case`},
		{"duplicate custom claim", is.SignRaw([]byte(grammarHeader), []byte(payloadJSON(is.URL, now, `"repository":"octo-org/other"`))), `"repository" twice`},
		{"custom claim case variant", is.SignRaw([]byte(grammarHeader), []byte(payloadJSON(is.URL, now, `"Repository":"octo-org/other"`))), "differ only in case"},
		{"duplicate key in a nested object", is.SignRaw([]byte(grammarHeader), []byte(payloadJSON(is.URL, now, `"x":{"a":1,"a":2}`))), `"a" twice`},

		{"exp a numeric string", is.SignRaw([]byte(grammarHeader), []byte(strings.Replace(payloadJSON(is.URL, now, ""), fmt.Sprintf(`"exp":%d`, now.Add(5*time.Minute).Unix()), fmt.Sprintf(`"exp":"%d"`, now.Add(5*time.Minute).Unix()), 1))), `claim "exp" is a string`},
		{"exp missing", is.SignRaw([]byte(grammarHeader), []byte(strings.Replace(payloadJSON(is.URL, now, ""), fmt.Sprintf(`,"exp":%d`, now.Add(5*time.Minute).Unix()), "", 1))), "no exp"},
		{"exp negative", is.SignRaw([]byte(grammarHeader), []byte(strings.Replace(payloadJSON(is.URL, now, ""), fmt.Sprintf(`"exp":%d`, now.Add(5*time.Minute).Unix()), `"exp":-1`, 1))), `claim "exp"`},
		{"exp huge", is.SignRaw([]byte(grammarHeader), []byte(strings.Replace(payloadJSON(is.URL, now, ""), fmt.Sprintf(`"exp":%d`, now.Add(5*time.Minute).Unix()), `"exp":1e300`, 1))), `claim "exp"`},
		{"iat a boolean", is.SignRaw([]byte(grammarHeader), []byte(strings.Replace(payloadJSON(is.URL, now, ""), fmt.Sprintf(`"iat":%d`, now.Unix()), `"iat":true`, 1))), `claim "iat" is a boolean`},
		{"nbf null", is.SignRaw([]byte(grammarHeader), []byte(strings.Replace(payloadJSON(is.URL, now, ""), fmt.Sprintf(`"nbf":%d`, now.Add(-5*time.Minute).Unix()), `"nbf":null`, 1))), `claim "nbf" is null`},
		{"iss a number", is.SignRaw([]byte(grammarHeader), []byte(strings.Replace(payloadJSON(is.URL, now, ""), fmt.Sprintf(`"iss":%q`, is.URL), `"iss":1`, 1))), `claim "iss" is a number`},
		{"iss missing", is.SignRaw([]byte(grammarHeader), []byte(strings.Replace(payloadJSON(is.URL, now, ""), fmt.Sprintf(`"iss":%q,`, is.URL), "", 1))), "no iss"},
		{"sub an object", is.SignRaw([]byte(grammarHeader), []byte(strings.Replace(payloadJSON(is.URL, now, ""), `"sub":"repo:octo-org/octo-repo:ref:refs/heads/main"`, `"sub":{"repo":"x"}`, 1))), `claim "sub" is an object`},
		{"aud missing", is.SignRaw([]byte(grammarHeader), []byte(strings.Replace(payloadJSON(is.URL, now, ""), `"aud":"sts.amazonaws.com",`, "", 1))), "no aud"},
		{"aud a number", is.SignRaw([]byte(grammarHeader), []byte(strings.Replace(payloadJSON(is.URL, now, ""), `"aud":"sts.amazonaws.com"`, `"aud":1`, 1))), `claim "aud" is a number`},
		{"aud an empty array", is.SignRaw([]byte(grammarHeader), []byte(strings.Replace(payloadJSON(is.URL, now, ""), `"aud":"sts.amazonaws.com"`, `"aud":[]`, 1))), "empty array"},
		{"aud array with a number", is.SignRaw([]byte(grammarHeader), []byte(strings.Replace(payloadJSON(is.URL, now, ""), `"aud":"sts.amazonaws.com"`, `"aud":["sts.amazonaws.com",1]`, 1))), "not only strings"},
		{"jti a number", is.SignRaw([]byte(grammarHeader), []byte(payloadJSON(is.URL, now, `"jti":7`))), `claim "jti" is a number`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := parseToken(tc.token)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("parseToken refused a valid token: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrTokenInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("parseToken = %v, want ErrTokenInvalid mentioning %q", err, tc.want)
			}
		})
	}
}

// TestPeekRefusesBeforeSigning checks the rules Peek adds to the grammar:
// the audience exactly, iat not ahead of the clock skew.
func TestPeekRefusesBeforeSigning(t *testing.T) {
	t.Parallel()
	is := grammarIssuer(t)
	now := time.Now()
	v, err := NewVerifier(VerifierConfig{Issuer: Issuer{url: is.URL}, Audience: grammarAudience, KeySet: is.KeySet(t.Context()), Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		payload string
		want    error
	}{
		{"valid", payloadJSON(is.URL, now, ""), nil},
		{"audience array of two", strings.Replace(payloadJSON(is.URL, now, ""), `"aud":"sts.amazonaws.com"`, `"aud":["sts.amazonaws.com","other"]`, 1), ErrAudienceMismatch},
		{"iat 4 minutes ahead", strings.Replace(payloadJSON(is.URL, now, ""), fmt.Sprintf(`"iat":%d`, now.Unix()), fmt.Sprintf(`"iat":%d`, now.Add(4*time.Minute).Unix()), 1), nil},
		{"iat an hour ahead", strings.Replace(payloadJSON(is.URL, now, ""), fmt.Sprintf(`"iat":%d`, now.Unix()), fmt.Sprintf(`"iat":%d`, now.Add(time.Hour).Unix()), 1), ErrTokenInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := v.Peek(is.SignRaw([]byte(grammarHeader), []byte(tc.payload)))
			if !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
				t.Fatalf("Peek = %v, want %v", err, tc.want)
			}
		})
	}
}

// FuzzParseToken feeds arbitrary text to the grammar: it never panics, and
// what it accepts has three parts, RS256, no forbidden header and no two
// keys of one object that a case-insensitive decoder would merge.
func FuzzParseToken(f *testing.F) {
	is := grammarIssuer(f)
	now := time.Unix(1_800_000_000, 0)
	good := is.SignRaw([]byte(grammarHeader), []byte(payloadJSON(is.URL, now, "")))
	parts := strings.Split(good, ".")
	for _, seed := range []string{
		good, "", ".", "..", "a.b.c", parts[0] + "." + parts[1] + ".", parts[0] + "." + parts[1] + "\n." + parts[2],
		b64(`{"alg":"none"}`) + "." + parts[1] + "." + parts[2],
		b64(`{"alg":"RS256","alg":"none"}`) + "." + parts[1] + "." + parts[2],
		parts[0] + "." + b64(`{"exp":1,"EXP":2}`) + "." + parts[2],
		`{"payload":"x","signatures":[]}`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		tok, err := parseToken(raw)
		if err != nil {
			if !errors.Is(err, ErrTokenInvalid) {
				t.Fatalf("error %v is not ErrTokenInvalid", err)
			}
			return
		}
		if strings.Count(raw, ".") != 2 || tok.header["alg"] != "RS256" {
			t.Fatalf("accepted %q", raw)
		}
		if strings.IndexFunc(raw, func(r rune) bool { return !isBase64URL(r) && r != '.' }) >= 0 {
			t.Fatalf("accepted %q, with a character outside the base64url alphabet", raw)
		}
		for _, h := range forbiddenHeaders {
			if _, ok := tok.header[h]; ok {
				t.Fatalf("accepted header %q", h)
			}
		}
		assertNoCaseTwins(t, tok.claims)
		assertNoCaseTwins(t, tok.header)
	})
}

// FuzzPeekClaims signs arbitrary payloads properly and peeks at them: Peek
// never panics, and what it accepts is read the same by a case-insensitive
// struct decoder (go-oidc's way) as by a strict map: the exp a policy
// engine sees is the exp that was checked.
func FuzzPeekClaims(f *testing.F) {
	is := grammarIssuer(f)
	now := time.Unix(1_800_000_000, 0)
	v, err := NewVerifier(VerifierConfig{Issuer: Issuer{url: is.URL}, Audience: grammarAudience, KeySet: is.KeySet(f.Context()), Now: func() time.Time { return now }})
	if err != nil {
		f.Fatal(err)
	}
	for _, extra := range []string{"", `"EXP":1`, `"exp":"1"`, `"aud":["a","sts.amazonaws.com"]`, `"iat":1e12`, `"repository":1`, `"x":{"y":{"z":[1,2]}}`} {
		f.Add([]byte(payloadJSON(is.URL, now, extra)))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		id, err := v.Peek(is.SignRaw([]byte(grammarHeader), payload))
		if err != nil {
			return
		}
		var loose struct {
			Exp json.Number `json:"exp"`
			Aud any         `json:"aud"`
			Iss string      `json:"iss"`
		}
		if err := json.Unmarshal(payload, &loose); err != nil {
			t.Fatalf("accepted a payload a plain decoder refuses: %v", err)
		}
		exp, err := numericDateOf(loose.Exp)
		if err != nil || !exp.Truncate(time.Second).Equal(id.Expiry) || !id.Expiry.After(now) {
			t.Fatalf("exp: checked %v, a decoder reads %v (%v)", id.Expiry, loose.Exp, err)
		}
		if loose.Iss != is.URL || len(id.Audience) != 1 || id.Audience[0] != grammarAudience {
			t.Fatalf("accepted iss %q aud %v", loose.Iss, id.Audience)
		}
	})
}

func assertNoCaseTwins(t *testing.T, m map[string]any) {
	t.Helper()
	seen := map[string]string{}
	for k, v := range m {
		if other, ok := seen[strings.ToLower(k)]; ok {
			t.Fatalf("accepted %q and %q", k, other)
		}
		seen[strings.ToLower(k)] = k
		if sub, ok := v.(map[string]any); ok {
			assertNoCaseTwins(t, sub)
		}
	}
}
