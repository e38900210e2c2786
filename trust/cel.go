package trust

import (
	"errors"
	"fmt"
	"strings"

	"github.com/oidc-exchange/oidc-exchange/internal/lazyre"
)

// celToken is a lexeme of the CEL subset that attribute conditions use.
type celToken struct {
	kind byte   // 'i' identifier (dots included), 's' string, 'n' number, 'p' punctuation
	text string // identifier, decoded string, number or operator
}

// maxExprLen bounds conditions: GCP caps attribute conditions at 4096
// characters, so anything longer is not a real provider description.
const maxExprLen = 8192

// lexCEL splits a condition into tokens. It understands identifiers, quoted
// strings ('…', "…", with backslash escapes), numbers and operators; it
// rejects what it cannot read rather than guessing.
func lexCEL(src string) ([]celToken, error) {
	if len(src) > maxExprLen {
		return nil, fmt.Errorf("condition longer than %d bytes", maxExprLen)
	}
	var toks []celToken
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '\'' || c == '"':
			s, n, err := lexQuoted(src[i:])
			if err != nil {
				return nil, err
			}
			toks = append(toks, celToken{kind: 's', text: s})
			i += n
		case isIdentByte(c) && !(c >= '0' && c <= '9'):
			j := i
			for j < len(src) && (isIdentByte(src[j]) || src[j] == '.') {
				j++
			}
			toks = append(toks, celToken{kind: 'i', text: src[i:j]})
			i = j
		case c >= '0' && c <= '9':
			j := i
			for j < len(src) && (isIdentByte(src[j]) || src[j] == '.') {
				j++
			}
			toks = append(toks, celToken{kind: 'n', text: src[i:j]})
			i = j
		default:
			op := string(c)
			if i+1 < len(src) {
				switch two := src[i : i+2]; two {
				case "==", "!=", "&&", "||", "<=", ">=":
					op = two
				}
			}
			if strings.IndexByte("=!&|<>()[]{},+-*/%?:", op[0]) < 0 || op == "=" || op == "&" || op == "|" {
				return nil, fmt.Errorf("unexpected %q at byte %d", op, i)
			}
			toks = append(toks, celToken{kind: 'p', text: op})
			i += len(op)
		}
	}
	return toks, nil
}

func isIdentByte(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
}

// lexQuoted reads a quoted string at the start of s and returns its value
// and length.
func lexQuoted(s string) (string, int, error) {
	q := s[0]
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch c := s[i]; c {
		case q:
			return b.String(), i + 1, nil
		case '\\':
			if i+1 >= len(s) {
				return "", 0, errors.New("unterminated string")
			}
			i++
			switch e := s[i]; e {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			default:
				b.WriteByte(e)
			}
		default:
			b.WriteByte(c)
		}
	}
	return "", 0, errors.New("unterminated string")
}

// celParser builds a boolExpr from tokens:
//
//	or    = and { "||" and }
//	and   = unary { "&&" unary }
//	unary = "!" unary | "(" or ")" | atom
//	atom  = tokens up to "&&", "||" or an unmatched ")", brackets balanced
type celParser struct {
	toks    []celToken
	pos     int
	mapping map[string]string // attribute.x / google.subject → assertion.y
	at      loc
	depth   int
}

// parseCEL parses an attribute condition. mapping resolves attribute.X
// to the assertion claim it is mapped from.
func parseCEL(src string, mapping map[string]string, at loc) (*boolExpr, error) {
	toks, err := lexCEL(src)
	if err != nil {
		return nil, err
	}
	if len(toks) == 0 {
		return nil, errors.New("empty condition")
	}
	p := &celParser{toks: toks, mapping: mapping, at: at}
	e, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.pos != len(p.toks) {
		return nil, fmt.Errorf("unexpected %q", p.toks[p.pos].text)
	}
	return e, nil
}

func (p *celParser) peek(text string) bool {
	return p.pos < len(p.toks) && p.toks[p.pos].kind == 'p' && p.toks[p.pos].text == text
}

func (p *celParser) or() (*boolExpr, error) {
	return p.chain("||", '|', p.and)
}

func (p *celParser) and() (*boolExpr, error) {
	return p.chain("&&", '&', p.unary)
}

func (p *celParser) chain(sep string, op byte, next func() (*boolExpr, error)) (*boolExpr, error) {
	return parseChain(func() bool { return p.peek(sep) }, func() { p.pos++ }, op, next)
}

func (p *celParser) unary() (*boolExpr, error) {
	if p.depth++; p.depth > maxDepth {
		return nil, errDepth
	}
	defer func() { p.depth-- }()
	switch {
	case p.peek("!"):
		p.pos++
		if _, err := p.unary(); err != nil {
			return nil, err
		}
		// A negation pins nothing: "!(owner == 'evil')" admits everyone else.
		return &boolExpr{}, nil
	case p.peek("("):
		p.pos++
		e, err := p.or()
		if err != nil {
			return nil, err
		}
		if !p.peek(")") {
			return nil, errors.New("missing )")
		}
		p.pos++
		return e, nil
	}
	return p.atom()
}

func (p *celParser) atom() (*boolExpr, error) {
	start, depth := p.pos, 0
scan:
	for ; p.pos < len(p.toks); p.pos++ {
		t := p.toks[p.pos]
		if t.kind != 'p' {
			continue
		}
		switch t.text {
		case "(", "[", "{":
			depth++
		case ")", "]", "}":
			if depth == 0 {
				break scan
			}
			depth--
		case "&&", "||":
			if depth == 0 {
				break scan
			}
		}
	}
	if depth != 0 {
		return nil, errors.New("unbalanced brackets")
	}
	if p.pos == start {
		return nil, errors.New("missing operand")
	}
	return &boolExpr{test: p.test(p.toks[start:p.pos])}, nil
}

// test recognises the comparisons that pin a claim:
//
//	assertion.x == 'v'   'v' == assertion.x   assertion.x in ['v', 'w']
//	assertion.x.startsWith('v')   assertion.x.matches('^v$')
//
// and returns nil for anything else (true, 1 == 1, !=, has(…), …).
func (p *celParser) test(ts []celToken) *claimTest {
	ts = collapseIndex(ts)
	lit := func(t celToken) bool { return t.kind == 's' }
	switch {
	case len(ts) == 3 && ts[1].kind == 'p' && ts[1].text == "==":
		if ts[0].kind == 'i' && lit(ts[2]) {
			return p.claimTest(ts[0].text, []string{ts[2].text}, false)
		}
		if ts[2].kind == 'i' && lit(ts[0]) {
			return p.claimTest(ts[2].text, []string{ts[0].text}, false)
		}
	case len(ts) >= 5 && ts[0].kind == 'i' && ts[1].kind == 'i' && ts[1].text == "in" && ts[2].text == "[" && ts[len(ts)-1].text == "]":
		var vals []string
		for i, t := range ts[3 : len(ts)-1] {
			switch {
			case i%2 == 0 && lit(t):
				vals = append(vals, t.text)
			case i%2 == 1 && t.kind == 'p' && t.text == ",":
			default:
				return nil
			}
		}
		return p.claimTest(ts[0].text, vals, false)
	case len(ts) == 4 && ts[0].kind == 'i' && ts[1].text == "(" && lit(ts[2]) && ts[3].text == ")":
		recv, method, ok := cutLast(ts[0].text, ".")
		if !ok {
			return nil
		}
		switch method {
		case "startsWith":
			// As a glob: the prefix, then anything. A literal * in the
			// prefix would also read as a wildcard, which only widens.
			return p.claimTest(recv, []string{ts[2].text + "*"}, true)
		case "matches":
			if v, glob, ok := regexAsGlob(ts[2].text); ok {
				return p.claimTest(recv, []string{v}, glob)
			}
		}
	}
	return nil
}

// collapseIndex rewrites assertion['x'] as the identifier assertion.x.
func collapseIndex(ts []celToken) []celToken {
	out := make([]celToken, 0, len(ts))
	for i := 0; i < len(ts); i++ {
		if i+3 < len(ts) && ts[i].kind == 'i' && ts[i+1].text == "[" && ts[i+2].kind == 's' && ts[i+3].text == "]" {
			out = append(out, celToken{kind: 'i', text: ts[i].text + "." + ts[i+2].text})
			i += 3
			continue
		}
		out = append(out, ts[i])
	}
	return out
}

func cutLast(s, sep string) (string, string, bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return "", "", false
	}
	return s[:i], s[i+len(sep):], true
}

// regexAsGlob turns the regular expressions people write in conditions,
// ^literal$ and ^literal.*, into a literal or a prefix glob; anything else
// cannot be judged and pins nothing.
func regexAsGlob(re string) (string, bool, bool) {
	if !strings.HasPrefix(re, "^") {
		return "", false, false // RE2 matches substrings: unanchored means "contains"
	}
	body := re[1:]
	switch {
	case strings.HasSuffix(body, "$"):
		body = body[:len(body)-1]
		if lit, ok := regexLiteral(body); ok {
			return lit, false, true
		}
	case strings.HasSuffix(body, ".*"):
		if lit, ok := regexLiteral(body[:len(body)-2]); ok && !hasWildcard(lit) {
			return lit + "*", true, true
		}
	default:
		if lit, ok := regexLiteral(body); ok && !hasWildcard(lit) {
			return lit + "*", true, true
		}
	}
	return "", false, false
}

var regexMetaRE = lazyre.New(`[.*+?()\[\]{}|^$]`)

// regexLiteral unescapes \. and the like and fails on real metacharacters.
func regexLiteral(s string) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\\' && i+1 < len(s) && regexMetaRE().MatchString(s[i+1:i+2]) {
			b.WriteByte(s[i+1])
			i++
			continue
		}
		if c == '\\' || regexMetaRE().MatchString(string(c)) {
			return "", false
		}
		b.WriteByte(c)
	}
	return b.String(), true
}

// claimTest resolves a reference to the GitHub claim it reads.
func (p *celParser) claimTest(ref string, values []string, glob bool) *claimTest {
	claim := celClaim(ref, p.mapping)
	if claim == "" {
		return nil
	}
	return &claimTest{claim: claim, values: values, glob: glob, at: p.at}
}

// celClaim maps assertion.x to x, and attribute.x or google.subject
// through the attribute mapping when it is a plain assertion.y.
func celClaim(ref string, mapping map[string]string) string {
	if c, ok := strings.CutPrefix(ref, "assertion."); ok && !strings.Contains(c, ".") {
		return strings.ToLower(c)
	}
	if src, ok := mapping[ref]; ok {
		src = strings.TrimSpace(src)
		if c, ok := strings.CutPrefix(src, "assertion."); ok && isPlainIdent(c) {
			return strings.ToLower(c)
		}
	}
	return ""
}

func isPlainIdent(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isIdentByte(s[i]) {
			return false
		}
	}
	return true
}
