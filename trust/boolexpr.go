package trust

import "errors"

// boolExpr is the and/or structure of a GCP attribute condition or an
// Azure claims-matching expression, with claim tests at the leaves. Only
// what decides which repositories get in is kept: a negated subtree or a
// comparison the linter does not understand becomes an opaque leaf, which
// restricts nothing. Treating it so can only make the verdict broader,
// never narrower, so the linter errs towards reporting.
type boolExpr struct {
	op   byte // '&', '|', or 0 for a leaf
	kids []*boolExpr
	test *claimTest // nil for an opaque leaf
}

// maxDisjuncts bounds the disjunctive normal form. Real conditions have a
// handful of alternatives; (a||b)&&(c||d)&&… doubles per group, and a
// hostile input must not make the linter allocate without limit.
const maxDisjuncts = 256

var errTooComplex = errors.New("expression has too many alternatives to analyse")

// disjuncts rewrites e as alternatives, each a conjunction of tests.
func (e *boolExpr) disjuncts() ([][]claimTest, error) {
	switch e.op {
	case 0:
		if e.test == nil {
			return [][]claimTest{nil}, nil
		}
		return [][]claimTest{{*e.test}}, nil
	case '|':
		var out [][]claimTest
		for _, k := range e.kids {
			d, err := k.disjuncts()
			if err != nil {
				return nil, err
			}
			out = append(out, d...)
			if len(out) > maxDisjuncts {
				return nil, errTooComplex
			}
		}
		return out, nil
	default: // '&'
		out := [][]claimTest{nil}
		for _, k := range e.kids {
			d, err := k.disjuncts()
			if err != nil {
				return nil, err
			}
			if len(out)*len(d) > maxDisjuncts {
				return nil, errTooComplex
			}
			next := make([][]claimTest, 0, len(out)*len(d))
			for _, a := range out {
				for _, b := range d {
					c := make([]claimTest, 0, len(a)+len(b))
					next = append(next, append(append(c, a...), b...))
				}
			}
			out = next
		}
		return out, nil
	}
}

// exprVerdict is what a whole expression admits: its broadest alternative.
type exprVerdict struct {
	broadest pinResult
	// namesOnly is set when some alternative pins only by name.
	namesOnly bool
	// tests are all positive tests, for the pull-request and
	// workflow-ref checks, which look at every alternative.
	tests []claimTest
}

func judge(alts [][]claimTest) exprVerdict {
	var v exprVerdict
	for i, alt := range alts {
		r := evalPins(alt)
		if i == 0 || r.scope > v.broadest.scope {
			v.broadest = r
		}
		if r.pinned && r.named && !r.byID {
			v.namesOnly = true
		}
		v.tests = append(v.tests, alt...)
	}
	return v
}

// parseChain parses next (sep next)* for both expression languages: at
// reports whether the current token is the separator, skip consumes it. A
// single operand is returned as is, several become an op node.
func parseChain(at func() bool, skip func(), op byte, next func() (*boolExpr, error)) (*boolExpr, error) {
	first, err := next()
	if err != nil {
		return nil, err
	}
	kids := []*boolExpr{first}
	for at() {
		skip()
		k, err := next()
		if err != nil {
			return nil, err
		}
		kids = append(kids, k)
	}
	if len(kids) == 1 {
		return first, nil
	}
	return &boolExpr{op: op, kids: kids}, nil
}
