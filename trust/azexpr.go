package trust

import (
	"errors"
	"fmt"
	"strings"
)

// parseAzureExpression parses a flexible federated identity credential's
// claimsMatchingExpression (language version 1):
//
//	expr = and { "or" and }
//	and  = unary { "and" unary }
//	unary = "not" unary | "(" expr ")" | term
//	term = "claims" "[" 'name' "]" ( "eq" | "matches" ) 'value'
//
// Microsoft documents terms with matches (with * and ? wildcards) and eq;
// and, or, not and parentheses are accepted too, so that combined
// expressions are judged rather than rejected. eqWildcards receives eq
// terms whose value contains * or ?, which compare literally and so never
// match.
func parseAzureExpression(src string, at loc) (e *boolExpr, eqWildcards []claimTest, err error) {
	toks, err := lexAzure(src)
	if err != nil {
		return nil, nil, err
	}
	p := &azParser{toks: toks, at: at}
	e, err = p.expr()
	if err != nil {
		return nil, nil, err
	}
	if p.pos != len(toks) {
		return nil, nil, fmt.Errorf("unexpected %q", toks[p.pos].text)
	}
	return e, p.eqWildcards, nil
}

type azToken struct {
	kind byte // 'w' word, 's' string, 'p' punctuation
	text string
}

func lexAzure(src string) ([]azToken, error) {
	if len(src) > maxExprLen {
		return nil, fmt.Errorf("expression longer than %d bytes", maxExprLen)
	}
	var toks []azToken
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '\'':
			// Single-quoted; a doubled '' is a literal quote.
			var b strings.Builder
			j := i + 1
			for {
				if j >= len(src) {
					return nil, errors.New("unterminated string")
				}
				if src[j] == '\'' {
					if j+1 < len(src) && src[j+1] == '\'' {
						b.WriteByte('\'')
						j += 2
						continue
					}
					break
				}
				b.WriteByte(src[j])
				j++
			}
			toks = append(toks, azToken{kind: 's', text: b.String()})
			i = j + 1
		case isIdentByte(c):
			j := i
			for j < len(src) && isIdentByte(src[j]) {
				j++
			}
			toks = append(toks, azToken{kind: 'w', text: src[i:j]})
			i = j
		case strings.IndexByte("[]()", c) >= 0:
			toks = append(toks, azToken{kind: 'p', text: string(c)})
			i++
		default:
			return nil, fmt.Errorf("unexpected %q at byte %d", c, i)
		}
	}
	if len(toks) == 0 {
		return nil, errors.New("empty expression")
	}
	return toks, nil
}

type azParser struct {
	toks        []azToken
	pos         int
	at          loc
	depth       int
	eqWildcards []claimTest
}

func (p *azParser) word(w string) bool {
	return p.pos < len(p.toks) && p.toks[p.pos].kind == 'w' && strings.EqualFold(p.toks[p.pos].text, w)
}

func (p *azParser) punct(s string) bool {
	return p.pos < len(p.toks) && p.toks[p.pos].kind == 'p' && p.toks[p.pos].text == s
}

func (p *azParser) expr() (*boolExpr, error) { return p.chain("or", '|', p.and) }
func (p *azParser) and() (*boolExpr, error)  { return p.chain("and", '&', p.unary) }

func (p *azParser) chain(sep string, op byte, next func() (*boolExpr, error)) (*boolExpr, error) {
	return parseChain(func() bool { return p.word(sep) }, func() { p.pos++ }, op, next)
}

func (p *azParser) unary() (*boolExpr, error) {
	if p.depth++; p.depth > maxDepth {
		return nil, errDepth
	}
	defer func() { p.depth-- }()
	switch {
	case p.word("not"):
		p.pos++
		if _, err := p.unary(); err != nil {
			return nil, err
		}
		return &boolExpr{}, nil // a negation pins nothing
	case p.punct("("):
		p.pos++
		e, err := p.expr()
		if err != nil {
			return nil, err
		}
		if !p.punct(")") {
			return nil, errors.New("missing )")
		}
		p.pos++
		return e, nil
	}
	return p.term()
}

func (p *azParser) term() (*boolExpr, error) {
	if p.pos+6 > len(p.toks) || !p.word("claims") {
		return nil, p.errorf("want claims['name']")
	}
	t := p.toks[p.pos : p.pos+6]
	if t[1].text != "[" || t[2].kind != 's' || t[3].text != "]" || t[4].kind != 'w' || t[5].kind != 's' {
		return nil, p.errorf("want claims['name'] eq|matches 'value'")
	}
	p.pos += 6
	test := claimTest{claim: strings.ToLower(t[2].text), values: []string{t[5].text}, at: p.at}
	switch strings.ToLower(t[4].text) {
	case "matches":
		test.glob = true
	case "eq":
		if hasWildcard(t[5].text) {
			p.eqWildcards = append(p.eqWildcards, test)
		}
	default:
		return nil, fmt.Errorf("unknown operator %q", t[4].text)
	}
	return &boolExpr{test: &test}, nil
}

func (p *azParser) errorf(msg string) error {
	if p.pos < len(p.toks) {
		return fmt.Errorf("%s at %q", msg, p.toks[p.pos].text)
	}
	return fmt.Errorf("%s at end of expression", msg)
}
