package exchange

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"time"
	"unicode/utf8"
)

// The strict token grammar. Every token passes [parseToken] before anything
// else looks at it ([Verifier.Peek] calls it, and every token the pipeline
// hands a provider went through Peek: the first, a retry's, a refresh's),
// so a token that a lenient parser and a policy engine could read in two
// ways never leaves the runner. go-oidc still checks the signature; this
// decides what may be sent at all.
//
// Why each rule:
//   - Compact serialization only, three base64url parts without padding:
//     the JWS JSON serialization, or a token with a fourth part, is not
//     what GitHub issues, and a parser that accepts it may verify one
//     payload while a cloud reads another.
//   - alg RS256 only. GitHub's discovery advertises RS256 alone; go-oidc
//     admits "none" whenever signature checks are skipped, which Peek does.
//   - No crit, jku, x5u, jwk or x5c (nor zip): each points the verifier at
//     keys or processing rules other than the issuer's JWKS.
//   - No duplicate keys at any depth, compared without case: Go's JSON
//     decoding (go-oidc's, ours) matches keys without case and keeps the
//     last, so {"exp": past, "EXP": future} would verify as unexpired while
//     a policy engine reads the first. A key that equals a registered claim
//     but for case ("EXP" alone) is refused for the same reason.
//   - Registered claims of their RFC 7519 types: iss, sub and jti strings,
//     aud a string or an array of strings, exp, nbf and iat numbers. A
//     numeric string for exp would be read by one parser and not another.
//   - Valid UTF-8 only: decoders replace invalid bytes differently.

const (
	// maxTokenSize bounds the raw token. GitHub's are about 1.2 KB; custom
	// repository properties add little. The runner's endpoint answers at
	// most 64 KB, go-githubactions' cap, which no real token approaches.
	maxTokenSize = 16 << 10
	// maxJSONDepth bounds nesting in the header and the payload; GitHub's
	// claims are flat.
	maxJSONDepth = 16
	// minSignatureBytes and maxSignatureBytes are an RS256 signature's
	// size for RSA keys of 2048 to 8192 bits.
	minSignatureBytes = 256
	maxSignatureBytes = 1024
	// ClockSkew is how far in the future a token's iat may lie, the same
	// leeway go-oidc gives nbf: runner and issuer clocks drift a little,
	// but a token issued minutes ahead was not issued by a working clock.
	ClockSkew = 5 * time.Minute
)

// registeredClaims are RFC 7519's claims.
var registeredClaims = []string{"iss", "sub", "aud", "exp", "nbf", "iat", "jti"}

// forbiddenHeaders name keys or processing from somewhere other than the
// issuer's JWKS, or an extension nobody here implements.
var forbiddenHeaders = []string{"crit", "jku", "x5u", "jwk", "x5c", "zip"}

// headerParams are the JWS header parameters of RFC 7515 §4.1; like
// registered claims, none may appear in another case.
var headerParams = []string{"alg", "jku", "jwk", "kid", "x5u", "x5c", "x5t", "x5t#S256", "typ", "cty", "crit", "zip"}

// parsedToken is a token that passed the grammar: its header and claims,
// decoded with json.Number for numbers.
type parsedToken struct {
	header map[string]any
	claims map[string]any
}

// grammarError is a token that breaks the grammar; it wraps
// [ErrTokenInvalid].
func grammarError(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrTokenInvalid, fmt.Sprintf(format, args...))
}

// parseToken checks raw against the grammar above and decodes it. It
// never verifies the signature; it makes sure there is one of the right
// size for RS256.
func parseToken(raw string) (*parsedToken, error) {
	if len(raw) > maxTokenSize {
		return nil, grammarError("token is %d bytes, more than the %d a CI token may have", len(raw), maxTokenSize)
	}
	if strings.HasPrefix(strings.TrimSpace(raw), "{") {
		return nil, grammarError("token is a JWS JSON serialization; only the compact form is accepted")
	}
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return nil, grammarError("token has %d dot-separated parts; a compact JWS has 3", len(parts))
	}
	// Go's base64 decoders skip CR and LF; a compact JWS has no place for
	// them, nor for any other character outside the base64url alphabet.
	if i := strings.IndexFunc(raw, func(r rune) bool { return !isBase64URL(r) && r != '.' }); i >= 0 {
		return nil, grammarError("token has a character outside the base64url alphabet at byte %d", i)
	}
	var decoded [3][]byte
	for i, name := range []string{"header", "payload", "signature"} {
		if parts[i] == "" {
			return nil, grammarError("token's %s is empty", name)
		}
		b, err := base64.RawURLEncoding.Strict().DecodeString(parts[i])
		if err != nil {
			return nil, grammarError("token's %s is not unpadded base64url", name)
		}
		decoded[i] = b
	}
	if n := len(decoded[2]); n < minSignatureBytes || n > maxSignatureBytes {
		return nil, grammarError("token's signature is %d bytes; an RS256 signature has %d to %d", n, minSignatureBytes, maxSignatureBytes)
	}
	header, err := strictObject("header", decoded[0])
	if err != nil {
		return nil, err
	}
	if err := checkHeader(header); err != nil {
		return nil, err
	}
	claims, err := strictObject("payload", decoded[1])
	if err != nil {
		return nil, err
	}
	if err := checkRegisteredClaims(claims); err != nil {
		return nil, err
	}
	return &parsedToken{header: header, claims: claims}, nil
}

func isBase64URL(r rune) bool {
	return 'A' <= r && r <= 'Z' || 'a' <= r && r <= 'z' || '0' <= r && r <= '9' || r == '-' || r == '_'
}

func checkHeader(h map[string]any) error {
	alg, ok := h["alg"].(string)
	if !ok {
		return grammarError("token header has no alg")
	}
	if alg != "RS256" {
		return grammarError("token is signed with %q; only RS256 is accepted", Sanitize(alg))
	}
	for _, k := range forbiddenHeaders {
		if _, ok := h[k]; ok {
			return grammarError("token header has %q, which would take keys or rules from outside the issuer's JWKS", k)
		}
	}
	if v, ok := h["typ"]; ok {
		if s, isString := v.(string); !isString || !strings.EqualFold(s, "JWT") {
			return grammarError("token header's typ is %q, not JWT", Sanitize(fmt.Sprint(v)))
		}
	}
	if v, ok := h["kid"]; ok {
		if _, isString := v.(string); !isString {
			return grammarError("token header's kid is not a string")
		}
	}
	return nil
}

func checkRegisteredClaims(c map[string]any) error {
	for _, name := range []string{"iss", "sub", "jti"} {
		if v, ok := c[name]; ok {
			if _, isString := v.(string); !isString {
				return grammarError("claim %q is %s, not a string", name, jsonKind(v))
			}
		}
	}
	if _, ok := c["iss"]; !ok {
		return grammarError("token has no iss claim")
	}
	switch aud := c["aud"].(type) {
	case string:
	case []any:
		if len(aud) == 0 {
			return grammarError("claim \"aud\" is an empty array")
		}
		for _, a := range aud {
			if _, isString := a.(string); !isString {
				return grammarError("claim \"aud\" holds %s, not only strings", jsonKind(a))
			}
		}
	case nil:
		return grammarError("token has no aud claim")
	default:
		return grammarError("claim \"aud\" is %s, not a string or an array of strings", jsonKind(aud))
	}
	for _, name := range []string{"exp", "nbf", "iat"} {
		v, ok := c[name]
		if !ok {
			if name == "exp" {
				return grammarError("token has no exp claim")
			}
			continue
		}
		if _, err := numericDateOf(v); err != nil {
			return grammarError("claim %q %v", name, err)
		}
	}
	return nil
}

// numericDateOf reads an RFC 7519 NumericDate: a JSON number of seconds
// since the epoch (json.Number, or float64 from a plain decode), fractions
// allowed, within what any parser holds exactly.
func numericDateOf(v any) (time.Time, error) {
	var f float64
	switch n := v.(type) {
	case json.Number:
		var err error
		if f, err = n.Float64(); err != nil {
			return time.Time{}, fmt.Errorf("is %q, not a number of seconds since 1970", Sanitize(n.String()))
		}
	case float64:
		f = n
	default:
		return time.Time{}, fmt.Errorf("is %s, not a number", jsonKind(v))
	}
	if math.IsNaN(f) || math.IsInf(f, 0) || f < 0 || f > 1e11 {
		return time.Time{}, fmt.Errorf("is %v, not a number of seconds since 1970", f)
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC(), nil
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	default:
		return fmt.Sprintf("%T", v)
	}
}

// strictObject decodes b as one JSON object: valid UTF-8, nothing after
// it, no key twice in any object (without regard to case), no key that
// equals a registered claim but for case, nesting at most maxJSONDepth.
func strictObject(what string, b []byte) (map[string]any, error) {
	if !utf8.Valid(b) {
		return nil, grammarError("token %s is not valid UTF-8", what)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, grammarError("token %s is not JSON", what)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, grammarError("token %s is not a JSON object", what)
	}
	if err := strictValue(dec, what, '{', 1); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, grammarError("token %s has data after its JSON object", what)
	}
	var out map[string]any
	dec = json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&out); err != nil {
		return nil, grammarError("token %s is not JSON", what)
	}
	return out, nil
}

// canonicalName is the registered name key spells without regard to case
// (a claim in the payload, a parameter in the header), or "".
func canonicalName(what, key string) string {
	names := registeredClaims
	if what == "header" {
		names = headerParams
	}
	for _, n := range names {
		if strings.EqualFold(n, key) {
			return n
		}
	}
	return ""
}

// strictValue reads the rest of an object or array whose opening delim was
// just read, checking keys as strictObject says.
func strictValue(dec *json.Decoder, what string, open json.Delim, depth int) error {
	if depth > maxJSONDepth {
		return grammarError("token %s nests deeper than %d", what, maxJSONDepth)
	}
	seen := map[string]string{}
	for dec.More() {
		if open == '{' {
			tok, err := dec.Token()
			if err != nil {
				return grammarError("token %s is not JSON", what)
			}
			key, _ := tok.(string)
			folded := strings.ToLower(key)
			if first, dup := seen[folded]; dup {
				if first == key {
					return grammarError("token %s has the key %q twice", what, Sanitize(key))
				}
				return grammarError("token %s has the keys %q and %q, which differ only in case", what, Sanitize(first), Sanitize(key))
			}
			seen[folded] = key
			if depth == 1 {
				if canonical := canonicalName(what, key); canonical != "" && canonical != key {
					return grammarError("token %s has %q, which is %q in another case", what, Sanitize(key), canonical)
				}
			}
		}
		tok, err := dec.Token()
		if err != nil {
			return grammarError("token %s is not JSON", what)
		}
		if d, ok := tok.(json.Delim); ok {
			if err := strictValue(dec, what, d, depth+1); err != nil {
				return err
			}
		}
	}
	if _, err := dec.Token(); err != nil { // the closing delim
		return grammarError("token %s is not JSON", what)
	}
	return nil
}
