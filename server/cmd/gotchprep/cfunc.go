package main

import (
	"bytes"
	"sort"
	"strings"
)

// funcDef is a function definition at file scope (or inside namespace and
// extern "C" blocks, which do not nest functions).
type funcDef struct {
	name      string // e.g. atg_conv2d
	retType   string // e.g. "void", "tensor *", "int64_t"
	start     int    // offset of the first byte of the signature
	open      int    // offset of the body's '{'
	close     int    // offset of the body's '}'
	startLine int    // 1-based
	endLine   int
}

func (f funcDef) isVoid() bool {
	var words []string
	for _, w := range strings.Fields(f.retType) {
		switch w {
		case "static", "inline", "extern", `"C"`:
		default:
			words = append(words, w)
		}
	}
	return len(words) == 1 && words[0] == "void"
}

// blockKind is what a '{' opens.
type blockKind int

const (
	blockTransparent blockKind = iota // namespace, extern "C": functions live inside
	blockFunction
	blockOther // class, struct, initializer, or anything inside a function
)

// topLevelFunctions finds the function definitions in C++ source well enough
// for generated wrappers and hand-written glue: it tracks braces and skips
// comments, string and character literals and preprocessor lines, which is
// all it takes to find where each body starts and ends. It does not parse
// C++ beyond that.
func topLevelFunctions(src []byte) []funcDef {
	var (
		funcs     []funcDef
		stack     []blockKind
		opaque    int // entries of stack that are not transparent
		itemStart = -1
		lineStart = true // only whitespace since the last newline
		cur       funcDef
	)
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == '\n':
			lineStart = true
			i++
			continue
		case c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v':
			i++
			continue
		case c == '#' && lineStart:
			i = skipPreprocessor(src, i)
			if opaque == 0 {
				itemStart = -1
			}
			continue
		}
		lineStart = false
		switch {
		case bytes.HasPrefix(src[i:], []byte("//")):
			i = skipTo(src, i, "\n")
			continue
		case bytes.HasPrefix(src[i:], []byte("/*")):
			i = skipTo(src, i+2, "*/") + 2
			continue
		case c == '"':
			i = skipQuoted(src, i, '"')
			continue
		case c == '\'' && (i == 0 || !isIdent(src[i-1])): // not a digit separator (1'000)
			i = skipQuoted(src, i, '\'')
			continue
		}
		if opaque == 0 && itemStart < 0 && c != ';' && c != '}' {
			itemStart = i
		}
		switch c {
		case '{':
			kind := blockOther
			if opaque == 0 {
				header := ""
				if itemStart >= 0 {
					header = string(src[itemStart:i])
				}
				kind = classifyBlock(header)
				if kind == blockFunction {
					cur = funcDef{start: itemStart, open: i}
					cur.name, cur.retType = splitSignature(header)
				}
				if kind == blockTransparent {
					itemStart = -1
				}
			}
			if kind != blockTransparent {
				opaque++
			}
			stack = append(stack, kind)
		case '}':
			if len(stack) == 0 {
				break // unbalanced source: ignore the stray brace
			}
			kind := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if kind != blockTransparent {
				opaque--
			}
			if opaque == 0 {
				if kind == blockFunction {
					cur.close = i
					funcs = append(funcs, cur)
				}
				if kind != blockOther { // a class keeps going until its ';'
					itemStart = -1
				}
			}
		case ';':
			if opaque == 0 {
				itemStart = -1
			}
		}
		i++
	}
	setLines(src, funcs)
	return funcs
}

// classifyBlock tells what a '{' at file scope opens, from the text before it.
func classifyBlock(header string) blockKind {
	h := strings.TrimSpace(header)
	switch {
	case strings.HasPrefix(h, "namespace"), strings.HasPrefix(h, `extern "C"`) && !strings.Contains(h, "("):
		return blockTransparent
	case !strings.Contains(h, "("):
		return blockOther
	}
	for _, kw := range []string{"struct", "class", "union", "enum", "typedef"} {
		if h == kw || strings.HasPrefix(h, kw+" ") {
			return blockOther
		}
	}
	if eq := strings.IndexByte(h, '='); eq >= 0 && eq < strings.IndexByte(h, '(') {
		return blockOther // an initializer: int x = f({1, 2});
	}
	return blockFunction
}

// splitSignature splits "tensor *atg_split(tensor self, ...)" into the name
// and the return type.
func splitSignature(header string) (name, retType string) {
	h := strings.Join(strings.Fields(header), " ")
	paren := strings.IndexByte(h, '(')
	before := strings.TrimRight(h[:paren], " ")
	j := len(before)
	for j > 0 && (isIdent(before[j-1]) || before[j-1] == ':' || before[j-1] == '~') {
		j--
	}
	return before[j:], strings.TrimSpace(before[:j])
}

func isIdent(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// skipPreprocessor returns the offset of the newline ending the directive at
// i, following backslash continuations.
func skipPreprocessor(src []byte, i int) int {
	for i < len(src) && src[i] != '\n' {
		if src[i] == '\\' && i+1 < len(src) && src[i+1] == '\n' {
			i += 2
			continue
		}
		i++
	}
	return i
}

// skipTo returns the offset of the next occurrence of end at or after i, or
// len(src).
func skipTo(src []byte, i int, end string) int {
	if k := bytes.Index(src[i:], []byte(end)); k >= 0 {
		return i + k
	}
	return len(src)
}

// skipQuoted returns the offset just past the literal opened at i.
func skipQuoted(src []byte, i int, quote byte) int {
	for i++; i < len(src); i++ {
		switch src[i] {
		case '\\':
			i++
		case quote, '\n':
			return i + 1
		}
	}
	return i
}

func setLines(src []byte, funcs []funcDef) {
	var newlines []int
	for i, c := range src {
		if c == '\n' {
			newlines = append(newlines, i)
		}
	}
	lineOf := func(off int) int { return sort.SearchInts(newlines, off) + 1 }
	for k := range funcs {
		funcs[k].startLine = lineOf(funcs[k].start)
		funcs[k].endLine = lineOf(funcs[k].close)
	}
}

// enclosingFunction returns the index of the function whose definition spans
// line, or -1.
func enclosingFunction(funcs []funcDef, line int) int {
	i := sort.Search(len(funcs), func(i int) bool { return funcs[i].endLine >= line })
	if i < len(funcs) && funcs[i].startLine <= line {
		return i
	}
	return -1
}
