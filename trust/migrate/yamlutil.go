package migrate

import (
	"bytes"
	"fmt"
	"slices"
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

// lfText returns src with every CRLF line ending made LF, and the ending
// each of its lines had: "\r\n", "\n", or "" for a last line without one.
// ok is false when src has no CRLF, or a CR that does not end a line as
// CRLF (a lone CR is a line break to YAML, which no mapping here keeps).
func lfText(src []byte) (lf []byte, ends []string, ok bool) {
	n := bytes.Count(src, []byte("\r\n"))
	if n == 0 || n != bytes.Count(src, []byte("\r")) {
		return nil, nil, false
	}
	for rest := src; ; {
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			if len(rest) > 0 {
				ends = append(ends, "")
			}
			break
		}
		if i > 0 && rest[i-1] == '\r' {
			ends = append(ends, "\r\n")
		} else {
			ends = append(ends, "\n")
		}
		rest = rest[i+1:]
	}
	return bytes.ReplaceAll(src, []byte("\r\n"), []byte("\n")), ends, true
}

// loneCR reports whether src has a CR that does not end a line as CRLF.
func loneCR(src []byte) bool {
	return bytes.Count(src, []byte("\r")) != bytes.Count(src, []byte("\r\n"))
}

// restoreEndings maps the rewrite of a file analyzed as its LF text
// (lfText) back to the file it came from, orig, whose lines ended as ends
// says: every edit moves to its place in orig and removes the bytes there,
// line endings included, so whatever no edit covers stays byte for byte.
// The n-th line an edit writes ends like the n-th line it replaces (like
// the last, past those) or, where it replaces none, like the line before
// it; so a file of mixed endings keeps them line by line.
// The AST, src and lineStarts stay those of the LF text.
func (a *analysis) restoreEndings(orig []byte, ends []string) {
	if len(a.applied) == 0 {
		return
	}
	// crBefore[l] counts the CRLF endings of the lines before line l
	// (0-based), which is how far line l's start moves in orig.
	crBefore := make([]int, len(ends)+1)
	for l, e := range ends {
		crBefore[l+1] = crBefore[l]
		if e == "\r\n" {
			crBefore[l+1]++
		}
	}
	lineOf := func(off int) int {
		i, _ := slices.BinarySearch(a.lineStarts, off+1)
		return i - 1
	}
	at := func(off int) int { return off + crBefore[min(lineOf(off), len(ends))] }
	// around is the ending of a line break written at off where no line
	// is replaced: the ending of the line before (of off's own line when
	// off is inside it), else of the nearest line that has one.
	around := func(off int) string {
		start := lineOf(off)
		if off == a.lineStarts[start] {
			start--
		}
		for k := min(start, len(ends)-1); k >= 0; k-- {
			if ends[k] != "" {
				return ends[k]
			}
		}
		for k := max(start+1, 0); k < len(ends); k++ {
			if ends[k] != "" {
				return ends[k]
			}
		}
		return "\n"
	}
	mapped := make([]srcEdit, len(a.applied))
	for i, e := range a.applied {
		var replaced []string
		for k, c := range []byte(e.from) {
			if c == '\n' {
				replaced = append(replaced, ends[lineOf(e.off+k)])
			}
		}
		if len(replaced) == 0 {
			replaced = []string{around(e.off)}
		}
		var to strings.Builder
		n := 0
		for _, c := range []byte(e.to) {
			if c != '\n' {
				to.WriteByte(c)
				continue
			}
			to.WriteString(replaced[min(n, len(replaced)-1)])
			n++
		}
		off, end := at(e.off), at(e.off+len(e.from))
		mapped[i] = srcEdit{off: off, from: string(orig[off:end]), to: to.String(), why: e.why}
	}
	out, err := applyEdits(orig, mapped)
	if err != nil {
		a.refuse(fmt.Errorf("mapping the rewrite back to the file's line endings: %w", err))
		a.result, a.applied = "", nil
		return
	}
	a.result, a.applied = string(out), mapped
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

// joinLines writes ls with LF after each; analyze gives lines of CRLF
// files their ending back (restoreEndings).
func (a *analysis) joinLines(ls []string) string {
	var b strings.Builder
	for _, l := range ls {
		b.WriteString(l + "\n")
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
		to = strings.TrimSuffix(to, "\n")
	}
	return srcEdit{off: off, from: string(a.src[off:end]), to: to, why: why}
}

// insertLines returns the edit that inserts ls before line l (one past
// the last line: at the end).
func (a *analysis) insertLines(l int, why string, ls ...string) srcEdit {
	off := a.lineStart(l)
	to := a.joinLines(ls)
	if off == len(a.src) && off > 0 && a.src[off-1] != '\n' {
		to = "\n" + strings.TrimSuffix(to, "\n")
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
