package trust

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"unicode/utf8"

	"github.com/oidc-exchange/oidc-exchange/internal/lazyre"
)

// maxDepth bounds nesting. Trust documents nest five or six levels deep;
// the bound keeps a hostile input from recursing without limit.
const maxDepth = 64

type kind uint8

const (
	kindObject kind = iota + 1
	kindArray
	kindString
	kindNumber
	kindBool
	kindNull
)

// node is one JSON value with its position. Objects keep every member in
// document order, duplicates included, which is the point of this parser:
// encoding/json's Unmarshal keeps only the last of two equal keys, and so
// would hide the bug the json-duplicate-key check exists for.
type node struct {
	kind    kind
	path    string // JSON path, e.g. $.Statement[0].Condition
	off     int    // byte offset of the value's first byte in its document
	str     string // string value, or a number's literal text
	boolean bool
	members []member
	items   []*node
}

type member struct {
	key    string
	keyOff int
	val    *node
}

// duplicate is the second (or later) occurrence of a key in one object.
type duplicate struct {
	key      string
	path     string // path of the repeated member
	off      int    // offset of the repeated key
	firstOff int    // offset of the first occurrence
}

// document is a parsed input with what is needed to report positions.
type document struct {
	src  []byte
	root *node
	dups []duplicate
	// embeddedAt, when set, is the position in the enclosing file of the
	// JSON string this document was decoded from (aws iam get-role prints the
	// trust policy as a URL-encoded string); every position inside maps to it.
	embeddedAt *position
	// lines caches where each line starts and whether it is ASCII, built
	// on the first position lookup: one-line documents such as compact
	// CLI output can have thousands of findings on a long line.
	lines *lineIndex
}

type position struct{ line, column int }

// errDepth reports input nested deeper than maxDepth.
var errDepth = fmt.Errorf("nesting deeper than %d levels", maxDepth)

// parseDocument decodes data with encoding/json's token stream, keeping
// member order, duplicates and byte offsets. rootPath names the root value,
// "$" for a file; an embedded document gets its enclosing path.
func parseDocument(data []byte, rootPath string) (*document, error) {
	p := &parser{src: data, dec: json.NewDecoder(bytes.NewReader(data))}
	p.dec.UseNumber()
	root, err := p.value(rootPath, 0)
	if err != nil {
		return nil, p.wrap(err)
	}
	// A second value after the first is not one document.
	if _, err := p.dec.Token(); !errors.Is(err, io.EOF) {
		if err == nil {
			err = errors.New("unexpected data after the top-level value")
		}
		return nil, p.wrap(err)
	}
	return &document{src: data, root: root, dups: p.dups}, nil
}

type parser struct {
	src  []byte
	dec  *json.Decoder
	dups []duplicate
}

// wrap adds a line and column to a syntax error.
func (p *parser) wrap(err error) error {
	off := int(p.dec.InputOffset())
	var se *json.SyntaxError
	if errors.As(err, &se) {
		off = int(se.Offset)
	}
	pos := offsetPosition(p.src, off)
	return fmt.Errorf("line %d, column %d: %w", pos.line, pos.column, err)
}

// next returns the next token and the offset of its first byte. The
// decoder reports only where the previous token ended, so skip the
// whitespace and the ',' or ':' it consumes silently in between.
func (p *parser) next() (json.Token, int, error) {
	off := int(p.dec.InputOffset())
	tok, err := p.dec.Token()
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF // inside a value, the end of input is an error
	}
	for off < len(p.src) {
		switch p.src[off] {
		case ' ', '\t', '\r', '\n', ',', ':':
			off++
			continue
		}
		break
	}
	return tok, off, err
}

func (p *parser) value(path string, depth int) (*node, error) {
	tok, off, err := p.next()
	if err != nil {
		return nil, err
	}
	return p.valueFrom(tok, off, path, depth)
}

func (p *parser) valueFrom(tok json.Token, off int, path string, depth int) (*node, error) {
	n := &node{path: path, off: off}
	switch t := tok.(type) {
	case json.Delim:
		if depth >= maxDepth {
			return nil, errDepth
		}
		switch t {
		case '{':
			n.kind = kindObject
			return n, p.object(n, depth)
		case '[':
			n.kind = kindArray
			return n, p.array(n, depth)
		}
		return nil, fmt.Errorf("unexpected %q", rune(t))
	case string:
		n.kind, n.str = kindString, t
	case json.Number:
		n.kind, n.str = kindNumber, t.String()
	case bool:
		n.kind, n.boolean = kindBool, t
	case nil:
		n.kind = kindNull
	default:
		return nil, fmt.Errorf("unexpected token %v", tok)
	}
	return n, nil
}

func (p *parser) object(n *node, depth int) error {
	first := map[string]int{}
	for {
		tok, off, err := p.next()
		if err != nil {
			return err
		}
		if d, ok := tok.(json.Delim); ok && d == '}' {
			return nil
		}
		key, ok := tok.(string)
		if !ok {
			return fmt.Errorf("object key is %v, not a string", tok)
		}
		path := memberPath(n.path, key)
		if at, seen := first[key]; seen {
			p.dups = append(p.dups, duplicate{key: key, path: path, off: off, firstOff: at})
		} else {
			first[key] = off
		}
		v, err := p.value(path, depth+1)
		if err != nil {
			return err
		}
		n.members = append(n.members, member{key: key, keyOff: off, val: v})
	}
}

func (p *parser) array(n *node, depth int) error {
	for i := 0; ; i++ {
		tok, off, err := p.next()
		if err != nil {
			return err
		}
		if d, ok := tok.(json.Delim); ok && d == ']' {
			return nil
		}
		v, err := p.valueFrom(tok, off, fmt.Sprintf("%s[%d]", n.path, i), depth+1)
		if err != nil {
			return err
		}
		n.items = append(n.items, v)
	}
}

var plainKeyRE = lazyre.New(`^[A-Za-z_][A-Za-z0-9_]*$`)

// memberPath appends key in dot notation when it is identifier-like and in
// bracket notation with a JSON string otherwise, so condition keys such as
// "token.actions.githubusercontent.com:sub" stay unambiguous.
func memberPath(parent, key string) string {
	if plainKeyRE().MatchString(key) {
		return parent + "." + key
	}
	b, err := json.Marshal(key)
	if err != nil { // unreachable: strings always marshal
		return parent + "[?]"
	}
	return parent + "[" + string(b) + "]"
}

// get returns the value of the last member named key: IAM and the
// standard decoders keep the last of duplicate keys, and the checks must
// judge the policy the cloud evaluates.
func (n *node) get(key string) *node {
	if n == nil || n.kind != kindObject {
		return nil
	}
	for i := len(n.members) - 1; i >= 0; i-- {
		if n.members[i].key == key {
			return n.members[i].val
		}
	}
	return nil
}

// has reports whether the object has key.
func (n *node) has(key string) bool { return n.get(key) != nil }

// text returns a string value, or "" for anything else.
func (n *node) text() string {
	if n == nil || n.kind != kindString {
		return ""
	}
	return n.str
}

// scalarText renders strings, numbers and booleans as IAM compares them.
func (n *node) scalarText() (string, bool) {
	switch {
	case n == nil:
		return "", false
	case n.kind == kindString, n.kind == kindNumber:
		return n.str, true
	case n.kind == kindBool:
		if n.boolean {
			return "true", true
		}
		return "false", true
	}
	return "", false
}

// values flattens a string-or-array-of-strings value (IAM's Action,
// Principal.Federated and condition values all take both forms), keeping
// each element's node for positions.
func (n *node) values() []*node {
	switch {
	case n == nil:
		return nil
	case n.kind == kindArray:
		out := make([]*node, 0, len(n.items))
		for _, it := range n.items {
			if _, ok := it.scalarText(); ok {
				out = append(out, it)
			}
		}
		return out
	default:
		if _, ok := n.scalarText(); ok {
			return []*node{n}
		}
	}
	return nil
}

// position maps a byte offset of d to a 1-based line and a column counted
// in Unicode code points (SARIF columnKind "unicodeCodePoints").
func (d *document) position(off int) position {
	if d.embeddedAt != nil {
		return *d.embeddedAt
	}
	if d.lines == nil {
		d.lines = indexLines(d.src)
	}
	return d.lines.position(d.src, off)
}

// offsetPosition is position for a one-off lookup, such as a syntax error.
func offsetPosition(src []byte, off int) position {
	return indexLines(src).position(src, off)
}

type lineIndex struct {
	starts []int  // offset of each line's first byte
	ascii  []bool // the line has no multi-byte characters
}

func indexLines(src []byte) *lineIndex {
	li := &lineIndex{starts: []int{0}, ascii: []bool{true}}
	for i, b := range src {
		switch {
		case b == '\n':
			li.starts = append(li.starts, i+1)
			li.ascii = append(li.ascii, true)
		case b >= utf8.RuneSelf:
			li.ascii[len(li.ascii)-1] = false
		}
	}
	return li
}

func (li *lineIndex) position(src []byte, off int) position {
	off = min(max(off, 0), len(src))
	// The last line starting at or before off.
	line, _ := slices.BinarySearch(li.starts, off+1)
	start := li.starts[line-1]
	if li.ascii[line-1] {
		return position{line: line, column: off - start + 1}
	}
	return position{line: line, column: utf8.RuneCount(src[start:off]) + 1}
}

// is reports whether n exists and has kind k; nil-safe so lookups chain.
func (n *node) is(k kind) bool { return n != nil && n.kind == k }

// elems returns an array's elements, nil for anything else: a missing key
// of an untrusted document must never be a nil dereference.
func (n *node) elems() []*node {
	if !n.is(kindArray) {
		return nil
	}
	return n.items
}

// effective returns an object's members as IAM and the standard decoders
// see them: for a repeated key, only the last occurrence.
func (n *node) effective() []member {
	if !n.is(kindObject) {
		return nil
	}
	last := make(map[string]int, len(n.members))
	for i, m := range n.members {
		last[m.key] = i
	}
	out := make([]member, 0, len(last))
	for i, m := range n.members {
		if last[m.key] == i {
			out = append(out, m)
		}
	}
	return out
}
