package githubtest

import (
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
)

// secretMasker is a port of the runner's job-wide SecretMasker
// (actions/runner src/Sdk/DTLogging/Logging/SecretMasker.cs) with the value
// encoders HostContext registers. It is append-only, so a prefix of its
// values is the masker as it was earlier; the zero value masks nothing.
type secretMasker struct {
	originals map[string]bool
	values    []string
	seen      map[string]bool
}

// AddValue is SecretMasker.AddValue: it registers v and every non-empty
// encoded variant (base64 at three byte offsets, JSON string escape,
// Uri.EscapeDataString, XML escape, expression escape, and the value
// without surrounding double quotes). Empty values are ignored.
func (m *secretMasker) AddValue(v string) {
	if v == "" || m.originals[v] {
		return
	}
	if m.originals == nil {
		m.originals, m.seen = map[string]bool{}, map[string]bool{}
	}
	m.originals[v] = true
	m.add(v)
	for _, variant := range runnerEncodings(v) {
		if variant != "" {
			m.add(variant)
		}
	}
}

func (m *secretMasker) add(v string) {
	if !m.seen[v] {
		m.seen[v] = true
		m.values = append(m.values, v)
	}
}

// AddMask is what ::add-mask:: does with its data: it ignores white-space
// data (the runner warns instead), registers the value, and, since runner
// v2.286.0, each trimmed non-empty line of a multi-line value, which is
// what actually hides it because masking works line by line. It reports
// whether anything was registered.
func (m *secretMasker) AddMask(data string) bool {
	if strings.TrimSpace(data) == "" {
		return false
	}
	m.AddValue(data)
	if strings.ContainsAny(data, "\r\n") {
		for _, line := range strings.Split(data, "\n") {
			if line = strings.TrimSpace(line); line != "" {
				m.AddValue(line)
			}
		}
	}
	return true
}

// Len is the number of registered strings, variants included; pass it to
// [secretMasker.MaskAt] to mask as the masker was at that point.
func (m *secretMasker) Len() int { return len(m.values) }

// MaskAt masks s with the first n registered strings.
func (m *secretMasker) MaskAt(n int, s string) string {
	var b strings.Builder
	last := 0
	for _, r := range m.ranges(n, s) {
		b.WriteString(s[last:r.start])
		b.WriteString("***")
		last = r.end
	}
	b.WriteString(s[last:])
	return b.String()
}

// span is a half-open byte range.
type span struct{ start, end int }

// ranges returns the merged ranges the first n values cover in s. Like the
// runner, touching or overlapping occurrences merge into one "***".
func (m *secretMasker) ranges(n int, s string) []span {
	var found []span
	for _, v := range m.values[:min(n, len(m.values))] {
		for _, i := range indexAll(s, v) {
			found = append(found, span{i, i + len(v)})
		}
	}
	if len(found) == 0 {
		return nil
	}
	slices.SortFunc(found, func(a, b span) int { return a.start - b.start })
	merged := []span{found[0]}
	for _, f := range found[1:] {
		cur := &merged[len(merged)-1]
		if f.start <= cur.end {
			cur.end = max(cur.end, f.end)
			continue
		}
		merged = append(merged, f)
	}
	return merged
}

// indexAll returns where v occurs in s, overlapping occurrences included.
func indexAll(s, v string) []int {
	var out []int
	for i := 0; v != "" && i+len(v) <= len(s); {
		j := strings.Index(s[i:], v)
		if j < 0 {
			break
		}
		out = append(out, i+j)
		i += j + 1
	}
	return out
}

// covered reports whether [start, end) lies within one masked range.
func covered(rs []span, start, end int) bool {
	for _, r := range rs {
		if r.start <= start && end <= r.end {
			return true
		}
	}
	return false
}

// runnerEncodings are the variants the runner's ValueEncoders register.
func runnerEncodings(v string) []string {
	b := []byte(v)
	shift := func(n int) string {
		if len(b) > n {
			return base64.StdEncoding.EncodeToString(b[n:])
		}
		return base64.StdEncoding.EncodeToString(b)
	}
	trimmed := ""
	if len(v) > 8 && strings.HasPrefix(v, `"`) && strings.HasSuffix(v, `"`) {
		trimmed = v[1 : len(v)-1]
	}
	return []string{
		base64.StdEncoding.EncodeToString(b),
		shift(1),
		shift(2),
		strings.ReplaceAll(v, "'", "''"),
		newtonsoftEscape(v),
		uriDataEscape(v),
		xmlEscape(v),
		trimmed,
	}
}

// newtonsoftEscape is JsonConvert.ToString without the quotes: short
// escapes for \b \t \n \f \r, \uXXXX for other control characters and
// U+0085, U+2028, U+2029, and no HTML escaping (unlike encoding/json).
func newtonsoftEscape(v string) string {
	var b strings.Builder
	for _, r := range v {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\b':
			b.WriteString(`\b`)
		case '\t':
			b.WriteString(`\t`)
		case '\n':
			b.WriteString(`\n`)
		case '\f':
			b.WriteString(`\f`)
		case '\r':
			b.WriteString(`\r`)
		case '\u0085', '\u2028', '\u2029':
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			if r < 0x20 {
				fmt.Fprintf(&b, `\u%04x`, r)
				continue
			}
			b.WriteRune(r)
		}
	}
	return b.String()
}

// uriDataEscape is Uri.EscapeDataString: every byte of the UTF-8 encoding
// except RFC 3986 unreserved characters becomes %XX (upper-case hex).
func uriDataEscape(v string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || strings.IndexByte("-._~", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&0xf])
	}
	return b.String()
}

// xmlEscape is SecurityElement.Escape.
func xmlEscape(v string) string {
	return strings.NewReplacer("<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&apos;", "&", "&amp;").Replace(v)
}
