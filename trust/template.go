package trust

import (
	"fmt"
	"slices"
	"strings"
)

// maxPlaceholderName bounds a <NAME> placeholder, so that an expression
// such as "a < b && c > d" is not read as one.
const maxPlaceholderName = 64

// placeholders returns the template placeholders in s, in order. Trust
// documents are often linted before they are rendered, and a placeholder
// stands for a value the linter cannot see:
//
//   - ${…}: Terraform, CloudFormation Fn::Sub, envsubst, and the
//     google-github-actions/auth README (${WORKLOAD_IDENTITY_POOL_ID});
//   - {{…}}: Helm, Go templates, Jinja, Ansible;
//   - <NAME>: the placeholders documentation writes (<ACCOUNT_ID>).
//
// IAM policy variables (${aws:username}) and IAM's escapes (${*}, ${?},
// ${$}) are not placeholders: IAM itself fills them in at request time.
func placeholders(s string) []string {
	var out []string
	for i := 0; i < len(s); {
		switch {
		case strings.HasPrefix(s[i:], "${"):
			end := strings.IndexByte(s[i+2:], '}')
			if end < 0 {
				return out
			}
			inner := s[i+2 : i+2+end]
			if !iamPolicyVariable(inner) {
				out = append(out, s[i:i+2+end+1])
			}
			i += 2 + end + 1
		case strings.HasPrefix(s[i:], "{{"):
			end := strings.Index(s[i+2:], "}}")
			if end < 0 {
				return out
			}
			out = append(out, s[i:i+2+end+2])
			i += 2 + end + 2
		case s[i] == '<':
			end := strings.IndexByte(s[i+1:], '>')
			if end >= 0 && placeholderName(s[i+1:i+1+end]) {
				out = append(out, s[i:i+1+end+1])
				i += 1 + end + 1
				continue
			}
			i++
		default:
			i++
		}
	}
	return out
}

// iamPolicyVariable reports whether the inside of ${…} is an IAM policy
// variable (service:key, a single colon, lower-case service) or escape.
// CloudFormation's ${AWS::AccountId} has two colons and is a placeholder.
func iamPolicyVariable(inner string) bool {
	switch inner {
	case "*", "?", "$":
		return true
	}
	service, key, ok := strings.Cut(inner, ":")
	if !ok || service == "" || key == "" || strings.Contains(key, ":") {
		return false
	}
	return !strings.ContainsFunc(service, func(r rune) bool {
		return !('a' <= r && r <= 'z' || '0' <= r && r <= '9' || r == '.' || r == '-' || r == '/')
	}) && !strings.ContainsAny(key, " \t\"'")
}

// placeholderName accepts the inside of <…> as documentation writes it:
// a letter, then letters, digits, '_', '-', '.' or spaces.
func placeholderName(s string) bool {
	if s == "" || len(s) > maxPlaceholderName || !isLetter(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !isLetter(c) && !('0' <= c && c <= '9') && c != '_' && c != '-' && c != '.' && c != ' ' {
			return false
		}
	}
	return true
}

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

// placeholderFill stands in for a placeholder when the rest of a value is
// parsed: a plain token without ':' or '/', so that an ARN or a member
// name keeps its shape.
const placeholderFill = "PLACEHOLDER"

// fillPlaceholders replaces every placeholder of s with [placeholderFill].
func fillPlaceholders(s string, ph []string) string {
	for _, p := range ph {
		s = strings.Replace(s, p, placeholderFill, 1)
	}
	return s
}

// describeTemplated starts a message about a value with placeholders: what
// "${x}" is a template placeholder, or what "a${x}b" holds the template
// placeholder(s) "${x}".
func describeTemplated(what, s string, ph []string) string {
	if len(ph) == 1 && strings.TrimSpace(s) == ph[0] {
		return fmt.Sprintf("%s %q is a template placeholder", what, s)
	}
	q := make([]string, len(ph))
	for i, p := range ph {
		q[i] = fmt.Sprintf("%q", p)
	}
	return fmt.Sprintf("%s %q holds the template placeholder(s) %s", what, s, strings.Join(q, ", "))
}

// templatedValue reports whether a value a claim is compared with has a
// placeholder where it decides which repositories are admitted: anywhere
// in an audience or a repository or owner pin, and in a subject before its
// environment. An environment name is free text ("<tag>" and "a${b}c" are
// valid names, and trust/plan writes them as given), so a placeholder there
// reads as itself, as in every other claim.
func templatedValue(claim, v string) bool {
	switch {
	case claim == "sub":
		if i := strings.Index(v, ":environment:"); i >= 0 {
			v = v[:i]
		}
	case claim != "aud" && !slices.Contains(pinClaims, claim):
		return false
	}
	return len(placeholders(v)) > 0
}

// templatedExpr reports whether a placeholder decides what the expression
// src (a CEL attribute condition, an Azure claims expression) admits:
// when src does not parse (err), when a placeholder stands outside a
// string literal, where it is code ("{{ condition }}"), or when
// [templatedValue] reports a value of the alternatives' tests.
func templatedExpr(src string, alts [][]claimTest, err error) bool {
	ph := placeholders(src)
	if len(ph) == 0 {
		return false
	}
	if err != nil {
		return true
	}
	for _, p := range ph {
		i := strings.Index(src, p)
		if strings.Count(src[:i], "'")%2 == 0 && strings.Count(src[:i], `"`)%2 == 0 {
			return true
		}
	}
	for _, alt := range alts {
		for _, t := range alt {
			if slices.ContainsFunc(t.values, func(v string) bool { return templatedValue(t.claim, v) }) {
				return true
			}
		}
	}
	return false
}
