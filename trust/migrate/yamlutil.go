package migrate

import (
	"bytes"
	"strings"

	"github.com/oidc-exchange/oidc-exchange/internal/lazyre"

	"github.com/goccy/go-yaml/ast"
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

// The rewrite splices text into the source at the positions the parser
// gives instead of printing the AST again: a printer normalizes flow
// sequences, joins multi-line scalars, drops trailing blank lines and
// writes LF, and every such change lands on lines the migration never
// meant to touch. Lines are 1-based, as in token positions.

// newline returns the source's line ending: CRLF when its first line ends
// so, else LF. New lines are written with it, so a CRLF file stays CRLF.
func newline(src []byte) string {
	if i := bytes.IndexByte(src, '\n'); i > 0 && src[i-1] == '\r' {
		return "\r\n"
	}
	return "\n"
}

// crlfOnly returns src with LF line endings when every line of it ends in
// CRLF and it has no other CR; a file of mixed line endings is not.
func crlfOnly(src []byte) ([]byte, bool) {
	n := bytes.Count(src, []byte("\r\n"))
	if n == 0 || n != bytes.Count(src, []byte("\n")) || n != bytes.Count(src, []byte("\r")) {
		return nil, false
	}
	return bytes.ReplaceAll(src, []byte("\r\n"), []byte("\n")), true
}

// toCRLF maps the rewrite of a file analyzed as LF back to the CRLF file
// it came from (crlfOnly): the result and the applied edits, whose
// offsets move by one byte per line ending before them. The AST, src
// and lineStarts stay those of the LF text.
func (a *analysis) toCRLF() {
	crlf := func(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }
	a.result = crlf(a.result)
	for i, e := range a.applied {
		a.applied[i].off = e.off + bytes.Count(a.src[:e.off], []byte("\n"))
		a.applied[i].from, a.applied[i].to = crlf(e.from), crlf(e.to)
	}
}

// lines returns the number of lines of the source.
func (a *analysis) lines() int {
	n := len(a.lineStarts)
	if n > 0 && a.lineStarts[n-1] == len(a.src) {
		n-- // the empty "line" after a final newline
	}
	return n
}

// lineStart returns the offset of line l; one past the last line is the
// end of the source.
func (a *analysis) lineStart(l int) int {
	if l-1 < len(a.lineStarts) {
		return a.lineStarts[l-1]
	}
	return len(a.src)
}

// lineText returns line l without its line ending.
func (a *analysis) lineText(l int) string {
	if l < 1 || l > a.lines() {
		return ""
	}
	return strings.TrimRight(string(a.src[a.lineStart(l):a.lineStart(l+1)]), "\r\n")
}

// entryLines returns the first and last line of a block mapping entry:
// its key line and every following line indented deeper than the key,
// minus trailing blank and comment lines, which belong to what follows.
func (a *analysis) entryLines(mv *ast.MappingValueNode) (int, int) {
	first, col := line(mv.Key)
	last := first
	for l := first + 1; l <= a.lines(); l++ {
		t := a.lineText(l)
		if strings.TrimSpace(t) == "" || strings.HasPrefix(strings.TrimSpace(t), "#") {
			continue
		}
		if lead(t) < col {
			break
		}
		last = l
	}
	return first, last
}

// joinLines writes ls with the source's line ending after each.
func (a *analysis) joinLines(ls []string) string {
	var b strings.Builder
	for _, l := range ls {
		b.WriteString(l + a.nl)
	}
	return b.String()
}

// replaceLines returns the edit that replaces lines first..last (all of
// them, line endings included) by ls; no ls deletes them.
func (a *analysis) replaceLines(first, last int, why string, ls ...string) srcEdit {
	off, end := a.lineStart(first), a.lineStart(last+1)
	to := a.joinLines(ls)
	if end == len(a.src) && to != "" && !bytes.HasSuffix(a.src, []byte("\n")) {
		// The last line had no line ending; neither has its replacement.
		to = strings.TrimSuffix(to, a.nl)
	}
	return srcEdit{off: off, from: string(a.src[off:end]), to: to, why: why}
}

// insertLines returns the edit that inserts ls before line l (one past
// the last line: at the end).
func (a *analysis) insertLines(l int, why string, ls ...string) srcEdit {
	off := a.lineStart(l)
	to := a.joinLines(ls)
	if off == len(a.src) && off > 0 && a.src[off-1] != '\n' {
		to = a.nl + strings.TrimSuffix(to, a.nl)
	}
	return srcEdit{off: off, to: to, why: why}
}

// lead is the number of leading spaces of l.
func lead(l string) int { return len(l) - len(strings.TrimLeft(l, " ")) }

// spaces returns n spaces.
func spaces(n int) string { return strings.Repeat(" ", max(n, 0)) }

// blockMapping returns n as a block (not flow) mapping, or nil.
func blockMapping(n ast.Node) *ast.MappingNode {
	m, ok := unwrap(n).(*ast.MappingNode)
	if !ok || m.IsFlowStyle || len(m.Values) == 0 {
		return nil
	}
	return m
}

// indentUnit guesses the mapping indentation below parent: the column of
// its first child minus parent's key column, at least 1; 2 when it has no
// children.
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
