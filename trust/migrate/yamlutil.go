package migrate

import (
	"strings"

	"github.com/oidc-exchange/oidc-exchange/internal/lazyre"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
)

// unwrap strips anchors and tags so that the value underneath is seen.
func unwrap(n ast.Node) ast.Node {
	for range 16 {
		switch v := n.(type) {
		case *ast.AnchorNode:
			n = v.Value
		case *ast.TagNode:
			n = v.Value
		default:
			return n
		}
	}
	return n
}

// entries returns the key/value pairs of a mapping, or nil.
func entries(n ast.Node) []*ast.MappingValueNode {
	switch v := unwrap(n).(type) {
	case *ast.MappingNode:
		return v.Values
	case *ast.MappingValueNode:
		return []*ast.MappingValueNode{v}
	}
	return nil
}

// keyOf returns a mapping key's text.
func keyOf(mv *ast.MappingValueNode) string {
	if mv == nil || mv.Key == nil || mv.Key.GetToken() == nil {
		return ""
	}
	return mv.Key.GetToken().Value
}

// get returns the entry for key, or nil.
func get(n ast.Node, key string) *ast.MappingValueNode {
	for _, mv := range entries(n) {
		if keyOf(mv) == key {
			return mv
		}
	}
	return nil
}

// scalar returns a scalar node's value ("" for collections and nil).
func scalar(n ast.Node) string {
	if n == nil {
		return ""
	}
	switch v := unwrap(n).(type) {
	case *ast.StringNode:
		return v.Value
	case *ast.LiteralNode:
		if v.Value != nil {
			return v.Value.Value
		}
		return ""
	case *ast.MappingNode, *ast.MappingValueNode, *ast.SequenceNode, *ast.AliasNode, *ast.NullNode:
		return ""
	case nil:
		return ""
	default:
		if tk := v.GetToken(); tk != nil {
			return tk.Value
		}
	}
	return ""
}

// seq returns a sequence's items, or a one-item list for a scalar.
func seq(n ast.Node) []ast.Node {
	switch v := unwrap(n).(type) {
	case *ast.SequenceNode:
		return v.Values
	case nil:
		return nil
	default:
		if scalar(v) != "" {
			return []ast.Node{v}
		}
	}
	return nil
}

func line(n ast.Node) (int, int) {
	if n == nil || n.GetToken() == nil || n.GetToken().Position == nil {
		return 0, 0
	}
	p := n.GetToken().Position
	return p.Line, p.Column
}

// secretRE matches ${{ secrets.NAME }} and ${{ secrets['NAME'] }}.
var secretRE = lazyre.New(`secrets\s*(?:\.\s*([A-Za-z_][A-Za-z0-9_-]*)|\[\s*['"]([A-Za-z_][A-Za-z0-9_-]*)['"]\s*\])`)

// secretsIn returns the secret names an expression string references.
func secretsIn(s string) []string {
	if !strings.Contains(s, "${{") {
		return nil
	}
	var out []string
	for _, m := range secretRE().FindAllStringSubmatch(s, -1) {
		name := m[1]
		if name == "" {
			name = m[2]
		}
		out = append(out, name)
	}
	return out
}

// setScalar replaces an entry's value with the plain scalar v, at the old
// value's position so that the printer keeps the line layout.
func setScalar(mv *ast.MappingValueNode, v string) {
	pos := mv.Key.GetToken().Position
	if old := mv.Value; old != nil && old.GetToken() != nil && old.GetToken().Position != nil {
		pos = old.GetToken().Position
	}
	tk := token.New(v, v, pos)
	// Keep any line comment that followed the old value.
	c := mv.Value.GetComment()
	sn := ast.String(tk)
	if c != nil {
		_ = sn.SetComment(c)
	}
	mv.Value = sn
}

// renameKey changes an entry's key in place.
func renameKey(mv *ast.MappingValueNode, k string) {
	tk := mv.Key.GetToken()
	tk.Value = k
	tk.Origin = k
	if sn, ok := mv.Key.(*ast.StringNode); ok {
		sn.Value = k
	}
}

// parseEntries parses a snippet of "key: value" lines and shifts it to
// start at column col (1-based).
func parseEntries(snippet string, col int) ([]*ast.MappingValueNode, error) {
	f, err := parser.ParseBytes([]byte(snippet), 0)
	if err != nil {
		return nil, err
	}
	es := entries(f.Docs[0].Body)
	for _, e := range es {
		e.AddColumn(col - 1)
	}
	return es, nil
}

// parseSeqItem parses a "- ..." snippet and shifts it to column col.
func parseSeqItem(snippet string, col int) (ast.Node, error) {
	f, err := parser.ParseBytes([]byte(snippet), 0)
	if err != nil {
		return nil, err
	}
	s, ok := f.Docs[0].Body.(*ast.SequenceNode)
	if !ok || len(s.Values) != 1 {
		return nil, errBadSnippet
	}
	s.Values[0].AddColumn(col - 1)
	return s.Values[0], nil
}

// indentUnit guesses the mapping indentation below n: the column of its
// first child minus n's key column, at least 2.
func indentUnit(parent *ast.MappingValueNode) int {
	es := entries(parent.Value)
	if len(es) == 0 {
		return 2
	}
	_, pc := line(parent.Key)
	_, cc := line(es[0].Key)
	if cc-pc >= 1 {
		return cc - pc
	}
	return 2
}
