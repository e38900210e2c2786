package migrate

import (
	"fmt"
	"strings"
)

// gcpOutputs maps the outputs of google-github-actions/auth to those of
// oidc-exchange (action.yml; providers/gcp Output* constants). Every pair
// differs only in case and in _ against -, so a rename keeps the length
// of the expression and every byte around the name.
// access_token_expiration is in auth v2's action.yml, auth_token in v3's.
var gcpOutputs = map[string]string{
	"access_token":            "access-token",
	"access_token_expiration": "access-token-expiration",
	"auth_token":              "auth-token",
	"credentials_file_path":   "credentials-file-path",
	"id_token":                "id-token",
	"project_id":              "project-id",
}

// outputRef is one steps.<id>.outputs.<name> in a value: the output name
// at value[name:end] becomes to.
type outputRef struct {
	start, name, end int
	to               string
}

// exprSpans returns the [start, end) ranges of the expressions in s: the
// insides of ${{ }}, or all of s when bare (an if: without ${{ }}, which
// GitHub evaluates as one expression).
func exprSpans(s string, bare bool) [][2]int {
	if bare && !strings.Contains(s, "${{") {
		return [][2]int{{0, len(s)}}
	}
	var out [][2]int
	for i := 0; i < len(s); {
		k := strings.Index(s[i:], "${{")
		if k < 0 {
			break
		}
		start := i + k + 3
		end := len(s)
		for j := start; j < len(s); j++ {
			if s[j] == '\'' {
				j = skipString(s, j, len(s))
				continue
			}
			if strings.HasPrefix(s[j:], "}}") {
				end = j
				break
			}
		}
		out = append(out, [2]int{start, end})
		i = end + 2
	}
	return out
}

// skipString returns the index of the quote that closes the expression
// string literal opened at s[j] (” escapes a quote), or end-1.
func skipString(s string, j, end int) int {
	for k := j + 1; k < end; k++ {
		if s[k] != '\'' {
			continue
		}
		if k+1 < end && s[k+1] == '\'' {
			k++
			continue
		}
		return k
	}
	return end - 1
}

func isIdentStart(c byte) bool {
	return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func isIdent(c byte) bool {
	return isIdentStart(c) || c == '-' || '0' <= c && c <= '9'
}

// ident returns the identifier at s[j:end] and the index after it.
func ident(s string, j, end int) (string, int) {
	if j >= end || !isIdentStart(s[j]) {
		return "", j
	}
	k := j + 1
	for k < end && isIdent(s[k]) {
		k++
	}
	return s[j:k], k
}

// stepRefs finds, in the expressions of s, the references to the steps
// whose ids (lower case) ids reports, and returns the output renames or,
// when a reference cannot be renamed safely, why. Context and property
// names are case-insensitive in GitHub expressions.
func stepRefs(s string, bare bool, ids func(string) bool) ([]outputRef, string) {
	var refs []outputRef
	for _, sp := range exprSpans(s, bare) {
		for j := sp[0]; j < sp[1]; {
			c := s[j]
			switch {
			case c == '\'':
				j = skipString(s, j, sp[1]) + 1
			case isIdentStart(c):
				word, k := ident(s, j, sp[1])
				if !strings.EqualFold(word, "steps") || (j > sp[0] && s[j-1] == '.') {
					j = k
					continue
				}
				ref, next, problem := stepRef(s, j, k, sp[1], ids)
				if problem != "" {
					return nil, problem
				}
				if ref != nil {
					refs = append(refs, *ref)
				}
				j = next
			default:
				j++
			}
		}
	}
	return refs, ""
}

// stepRef reads the reference that starts with "steps" at s[j:k].
func stepRef(s string, j, k, end int, ids func(string) bool) (*outputRef, int, string) {
	if k >= end || s[k] != '.' {
		return nil, k, "an expression reads the steps context as a whole or by index, so the outputs of the google-github-actions/auth step cannot be followed; rewrite it by hand"
	}
	id, k2 := ident(s, k+1, end)
	if id == "" {
		return nil, k, "an expression reads the steps context by wildcard, so the outputs of the google-github-actions/auth step cannot be followed; rewrite it by hand"
	}
	if !ids(strings.ToLower(id)) {
		return nil, k2, ""
	}
	if strings.HasPrefix(id, "__") {
		return nil, k2, fmt.Sprintf("an expression reads steps.%s, the id GitHub generates for the google-github-actions/auth step, which changes with the action; give the step an id: first", id)
	}
	prop, k3 := ident(s, k2+1, end)
	if k2 >= end || s[k2] != '.' || prop == "" {
		return nil, k2, fmt.Sprintf("an expression reads steps.%s as a whole or by index; rewrite it by hand", id)
	}
	switch strings.ToLower(prop) {
	case "outcome", "conclusion":
		return nil, k3, ""
	case "outputs":
	default:
		return nil, k3, fmt.Sprintf("an expression reads steps.%s.%s; rewrite it by hand", id, prop)
	}
	name, k4 := ident(s, k3+1, end)
	if k3 >= end || s[k3] != '.' || name == "" {
		return nil, k3, fmt.Sprintf("an expression reads steps.%s.outputs as a whole or by index, whose names change from google-github-actions/auth's to oidc-exchange's; rewrite it by hand", id)
	}
	to, ok := gcpOutputs[strings.ToLower(name)]
	if !ok {
		return nil, k4, fmt.Sprintf("an expression reads steps.%s.outputs.%s, which oidc-exchange does not set; rewrite it by hand", id, name)
	}
	return &outputRef{start: j, name: k3 + 1, end: k4, to: to}, k4, ""
}
