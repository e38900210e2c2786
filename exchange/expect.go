package exchange

import (
	"fmt"
	"slices"
	"strings"

	"github.com/oidc-exchange/oidc-exchange/internal/lazyre"
)

// Expectation requires a claim to match one of its glob patterns.
type Expectation struct {
	Claim    string
	Patterns []string
}

// Expectations are checked on the token's payload before any provider call.
// Different claims must all match; several lines for one claim are
// alternatives, so "ref=refs/heads/main" plus "ref=refs/tags/v*" admits
// either.
type Expectations []Expectation

var claimNameRE = lazyre.New(`^[A-Za-z_][A-Za-z0-9_.:-]{0,127}$`)

// ParseExpectations reads `claim=pattern` lines. Blank lines and lines
// starting with # are ignored. Patterns are globs where * matches any run of
// characters (slashes included, as in AWS StringLike) and ? one character;
// everything else is literal, and the whole value must match.
func ParseExpectations(text string) (Expectations, error) {
	var out Expectations
	index := map[string]int{}
	for n, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(strings.TrimSuffix(line, "\r"))
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		claim, pattern, ok := strings.Cut(line, "=")
		claim = strings.TrimSpace(claim)
		pattern = strings.TrimSpace(pattern)
		switch {
		case !ok:
			return nil, InputError("expect-claims", "line %d: want claim=pattern, got %q", n+1, Sanitize(line))
		case !claimNameRE().MatchString(claim):
			return nil, InputError("expect-claims", "line %d: %q is not a claim name", n+1, Sanitize(claim))
		case pattern == "":
			return nil, InputError("expect-claims", "line %d: empty pattern for %q; use * to require only presence", n+1, claim)
		}
		if i, seen := index[claim]; seen {
			out[i].Patterns = append(out[i].Patterns, pattern)
			continue
		}
		index[claim] = len(out)
		out = append(out, Expectation{Claim: claim, Patterns: []string{pattern}})
	}
	return out, nil
}

// Check returns an *ExpectationError listing every unmet expectation, or
// nil. A claim that is absent or not a string never matches, not even "*".
func (es Expectations) Check(id *Identity) error {
	var mismatches []Mismatch
	for _, e := range es {
		raw, present := id.Claims[e.Claim]
		value, isString := raw.(string)
		if isString && slices.ContainsFunc(e.Patterns, func(p string) bool { return Glob(p, value) }) {
			continue
		}
		actual := value
		switch {
		case !present:
			actual = "(absent)"
		case !isString:
			actual = fmt.Sprintf("(not a string: %v)", raw)
		}
		mismatches = append(mismatches, Mismatch{Claim: e.Claim, Expected: strings.Join(e.Patterns, " or "), Actual: actual})
	}
	if len(mismatches) > 0 {
		return &ExpectationError{Mismatches: mismatches}
	}
	return nil
}

// Glob reports whether value matches pattern, where * matches any sequence
// (including "/" and the empty string) and ? exactly one rune. path.Match is
// not used because its * stops at "/", which would make
// "job_workflow_ref=org/*" surprise anyone who knows AWS StringLike.
func Glob(pattern, value string) bool {
	p, v := []rune(pattern), []rune(value)
	pi, vi := 0, 0
	star, mark := -1, 0
	for vi < len(v) {
		switch {
		case pi < len(p) && (p[pi] == '?' || p[pi] == v[vi]):
			pi++
			vi++
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, vi
			pi++
		case star >= 0:
			pi = star + 1
			mark++
			vi = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}
