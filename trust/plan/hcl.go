package plan

import (
	"strconv"
	"strings"

	"github.com/oidc-exchange/oidc-exchange/internal/lazyre"
)

// A small HCL writer producing what `terraform fmt` leaves unchanged:
// two-space indents, and the "=" of consecutive one-line attributes
// aligned, a multi-line value breaking the run.

// hclExpr is an expression written as is (a reference, a call).
type hclExpr string

// hclObject is an ordered object or block body.
type hclObject []hclAttr

// hclAttr is one key = value.
type hclAttr struct {
	Key   string
	Value any // string, int, hclExpr, hclObject, []string, []hclObject, hclCall
}

// hclCall is fn(arg) with a multi-line argument, e.g. jsonencode({…}).
type hclCall struct {
	Fn  string
	Arg any
}

// hclBlock is `type "label" … { body }`.
type hclBlock struct {
	Type   string
	Labels []string
	Body   hclObject
	Blocks []hclBlock
}

var hclIdentRE = lazyre.New(`^[A-Za-z_][A-Za-z0-9_-]*$`)

func (b hclBlock) write(sb *strings.Builder, indent string) {
	sb.WriteString(indent + b.Type)
	for _, l := range b.Labels {
		sb.WriteString(" " + hclString(l))
	}
	sb.WriteString(" {\n")
	writeAttrs(sb, indent+"  ", b.Body, false)
	for _, nb := range b.Blocks {
		nb.write(sb, indent+"  ")
	}
	sb.WriteString(indent + "}\n")
}

// writeAttrs writes attributes, aligning runs of one-line values.
func writeAttrs(sb *strings.Builder, indent string, attrs hclObject, inObject bool) {
	i := 0
	for i < len(attrs) {
		if _, ok := oneLine(attrs[i].Value); !ok {
			sb.WriteString(indent + keyOf(attrs[i].Key, inObject) + " = ")
			writeValue(sb, indent, attrs[i].Value)
			sb.WriteString("\n")
			i++
			continue
		}
		j := i
		width := 0
		for j < len(attrs) {
			if _, ok := oneLine(attrs[j].Value); !ok {
				break
			}
			width = max(width, len(keyOf(attrs[j].Key, inObject)))
			j++
		}
		for _, a := range attrs[i:j] {
			k := keyOf(a.Key, inObject)
			line, _ := oneLine(a.Value)
			sb.WriteString(indent + k + strings.Repeat(" ", width-len(k)) + " = " + line + "\n")
		}
		i = j
	}
}

// keyOf renders an attribute name: block attributes are identifiers;
// object keys are quoted unless they are plain identifiers.
func keyOf(k string, inObject bool) string {
	if inObject && !hclIdentRE().MatchString(k) {
		return hclString(k)
	}
	return k
}

// oneLine renders v on one line; the bool is false when v needs several.
func oneLine(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return hclString(v), true
	case int:
		return strconv.Itoa(v), true
	case hclExpr:
		return string(v), true
	case []string:
		parts := make([]string, len(v))
		for i, s := range v {
			parts[i] = hclString(s)
		}
		return "[" + strings.Join(parts, ", ") + "]", true
	}
	return "", false
}

func writeValue(sb *strings.Builder, indent string, v any) {
	if s, ok := oneLine(v); ok {
		sb.WriteString(s)
		return
	}
	switch v := v.(type) {
	case hclObject:
		sb.WriteString("{\n")
		writeAttrs(sb, indent+"  ", v, true)
		sb.WriteString(indent + "}")
	case []hclObject:
		// [{ … }, { … }]: one level of indent for the objects' bodies.
		sb.WriteString("[")
		for i, o := range v {
			if i > 0 {
				sb.WriteString(", ")
			}
			sb.WriteString("{\n")
			writeAttrs(sb, indent+"  ", o, true)
			sb.WriteString(indent + "}")
		}
		sb.WriteString("]")
	case hclCall:
		sb.WriteString(v.Fn + "(")
		writeValue(sb, indent, v.Arg)
		sb.WriteString(")")
	default:
		panic("plan: unsupported HCL value")
	}
}

// writeHCL renders blocks separated by blank lines, each optionally
// preceded by comment lines.
func writeHCL(parts ...hclPart) string {
	var sb strings.Builder
	for i, p := range parts {
		if i > 0 {
			sb.WriteString("\n")
		}
		for _, c := range p.Comments {
			sb.WriteString("# " + c + "\n")
		}
		p.Block.write(&sb, "")
	}
	return sb.String()
}

// hclPart is a top-level block with its leading comments.
type hclPart struct {
	Comments []string
	Block    hclBlock
}
