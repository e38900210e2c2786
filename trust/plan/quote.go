package plan

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"unicode"
)

// shellQuote renders s as one POSIX shell word: bare when it holds only
// characters no shell treats specially, in double quotes when nothing in it
// expands there (as the README writes gcloud flags), otherwise in single
// quotes, where each quote inside closes the quoting, adds \' and reopens.
func shellQuote(s string) string {
	if s != "" && !strings.ContainsFunc(s, func(r rune) bool { return !shellSafe(r) }) {
		return s
	}
	// Interactive bash and zsh expand history on "!" inside double quotes,
	// except before "=" (CEL's !=).
	if !strings.ContainsAny(s, "\"$`\\") && !strings.ContainsFunc(s, unicode.IsControl) &&
		!strings.Contains(strings.ReplaceAll(s, "!=", ""), "!") {
		return `"` + s + `"`
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// shellSafe is the set of characters that are literal in an unquoted word
// anywhere in it (no globbing, expansion, tilde or brace expansion).
func shellSafe(r rune) bool {
	return r < unicode.MaxASCII && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
		strings.ContainsRune("_@%+=:,./-", r))
}

// shellFlag renders --name=value with the value quoted.
func shellFlag(name, value string) string {
	return "--" + name + "=" + shellQuote(value)
}

// celString renders s as a single-quoted CEL string literal.
func celString(s string) string {
	var b strings.Builder
	b.WriteByte('\'')
	for _, r := range s {
		switch r {
		case '\\':
			b.WriteString(`\\`)
		case '\'':
			b.WriteString(`\'`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if unicode.IsControl(r) {
				fmt.Fprintf(&b, `\u%04x`, r)
				continue
			}
			b.WriteRune(r)
		}
	}
	b.WriteByte('\'')
	return b.String()
}

// hclString renders s as an HCL quoted string: JSON-like escapes, and "${"
// and "%{" doubled so that no interpolation or directive starts.
func hclString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	rs := []rune(s)
	for i, r := range rs {
		next := rune(0)
		if i+1 < len(rs) {
			next = rs[i+1]
		}
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r == '"':
			b.WriteString(`\"`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case (r == '$' || r == '%') && next == '{':
			b.WriteRune(r)
			b.WriteRune(r)
		case unicode.IsControl(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// hclTemplate renders an HCL quoted template: literal text escaped as by
// hclString around one interpolation of expr.
func hclTemplate(before, expr, after string) string {
	b := hclString(before)
	a := hclString(after)
	return b[:len(b)-1] + "${" + expr + "}" + a[1:]
}

// awsLiteral escapes a value for an IAM policy, where "${" starts a policy
// variable: "${$}" is IAM's literal "$".
func awsLiteral(s string) string {
	return strings.ReplaceAll(s, "${", "${$}{")
}

// marshalJSON encodes v as indented JSON without HTML escaping (an escaped
// "&" or "<" in a subject would no longer match when pasted) and without
// the trailing newline.
func marshalJSON(v any, indent string) (string, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if indent != "" {
		enc.SetIndent("", indent)
	}
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return strings.TrimSuffix(buf.String(), "\n"), nil
}
