package scim

import (
	"encoding/json"
	"strings"
	"unicode"
	"unicode/utf8"

	filter "github.com/scim2/filter-parser/v2"
)

// MaxFilterLength bounds the size of a filter expression we try to parse.
const MaxFilterLength = 4096

// MaxFilterDepth bounds the nesting of logical expressions.
const MaxFilterDepth = 32

// ParseFilter parses a SCIM filter with the leniency real clients need:
// bare (unquoted) values, value paths followed by a sub-attribute
// (emails[type eq "work"].value eq "x"), and operators in any case.
func ParseFilter(raw string) (filter.Expression, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil, BadRequest(TypeInvalidFilter, "empty filter")
	}
	if len(raw) > MaxFilterLength {
		return nil, BadRequest(TypeInvalidFilter, "filter longer than %d characters", MaxFilterLength)
	}
	if strings.ContainsRune(raw, 0) {
		return nil, BadRequest(TypeInvalidFilter, "filter contains a NUL character")
	}
	if !utf8.ValidString(raw) {
		return nil, BadRequest(TypeInvalidFilter, "filter is not valid UTF-8")
	}
	if expr, ok := fastFilter(raw); ok {
		return expr, nil
	}
	text := lenientFilter(raw)
	if depth := nestingDepth(text); depth > MaxFilterDepth {
		return nil, BadRequest(TypeInvalidFilter, "filter nested deeper than %d levels", MaxFilterDepth)
	}
	expr, err := parseSafely(text)
	if err != nil {
		return nil, BadRequest(TypeInvalidFilter, "invalid filter %q", raw)
	}
	if err := unescapeValues(expr, 0); err != nil {
		return nil, err
	}
	return expr, nil
}

// parseSafely guards against panics inside the third-party parser so that
// hostile input can never take the server down.
func parseSafely(text string) (expr filter.Expression, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = BadRequest(TypeInvalidFilter, "invalid filter")
		}
	}()
	return filter.ParseFilterNumber([]byte(text))
}

func nestingDepth(s string) int {
	depth, max, inQuote := 0, 0, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case inQuote && c == '\\':
			i++
		case c == '"':
			inQuote = !inQuote
		case inQuote:
		case c == '(' || c == '[':
			depth++
			if depth > max {
				max = depth
			}
		case c == ')' || c == ']':
			depth--
		}
	}
	// "not" and "and"/"or" chains also nest in the parser's tree; count words.
	return max + strings.Count(strings.ToLower(s), " not")/2
}

// unescapeValues turns the raw JSON string contents the parser returns
// into the strings they denote, and checks the depth of the tree.
func unescapeValues(e filter.Expression, depth int) error {
	if depth > MaxFilterDepth*4 {
		return BadRequest(TypeInvalidFilter, "filter nested too deeply")
	}
	switch x := e.(type) {
	case *filter.AttributeExpression:
		if s, ok := x.CompareValue.(string); ok {
			x.CompareValue = unescapeJSON(s)
		}
	case *filter.LogicalExpression:
		if err := unescapeValues(x.Left, depth+1); err != nil {
			return err
		}
		return unescapeValues(x.Right, depth+1)
	case *filter.NotExpression:
		return unescapeValues(x.Expression, depth+1)
	case *filter.ValuePath:
		return unescapeValues(x.ValueFilter, depth+1)
	}
	return nil
}

func unescapeJSON(s string) string {
	if !strings.ContainsRune(s, '\\') {
		return s
	}
	var out string
	if err := json.Unmarshal([]byte(`"`+s+`"`), &out); err != nil {
		return s
	}
	return out
}

type tokKind int

const (
	tokSpace tokKind = iota
	tokWord
	tokQuoted
	tokPunct
)

type token struct {
	kind tokKind
	text string
}

func tokenize(s string) []token {
	var toks []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			j := i
			for j < len(s) && (s[j] == ' ' || s[j] == '\t' || s[j] == '\n' || s[j] == '\r') {
				j++
			}
			toks = append(toks, token{tokSpace, s[i:j]})
			i = j
		case c == '"':
			j := i + 1
			for j < len(s) && s[j] != '"' {
				if s[j] == '\\' {
					j++
				}
				j++
			}
			if j < len(s) {
				j++
			} else {
				j = len(s)
			}
			toks = append(toks, token{tokQuoted, s[i:j]})
			i = j
		case c == '(' || c == ')' || c == '[' || c == ']':
			toks = append(toks, token{tokPunct, s[i : i+1]})
			i++
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\r\n\"()[]", rune(s[j])) {
				j++
			}
			toks = append(toks, token{tokWord, s[i:j]})
			i = j
		}
	}
	return toks
}

var compareOps = map[string]bool{"eq": true, "ne": true, "co": true, "sw": true, "ew": true, "gt": true, "ge": true, "lt": true, "le": true}

func nextNonSpace(toks []token, i int) int {
	for i < len(toks) && toks[i].kind == tokSpace {
		i++
	}
	return i
}

func isLiteral(w string) bool {
	switch strings.ToLower(w) {
	case "true", "false", "null":
		return true
	}
	if w == "" {
		return false
	}
	var n json.Number
	return json.Unmarshal([]byte(w), &n) == nil
}

func lenientFilter(s string) string {
	toks := tokenize(s)
	// Normalise operators and keywords to lower case and quote bare values.
	for i := 0; i < len(toks); i++ {
		t := &toks[i]
		if t.kind != tokWord {
			continue
		}
		low := strings.ToLower(t.text)
		switch low {
		case "and", "or", "not", "pr":
			t.text = low
			continue
		}
		if !compareOps[low] || i == 0 {
			continue
		}
		t.text = low
		j := nextNonSpace(toks, i+1)
		if j < len(toks) && toks[j].kind == tokWord && !isLiteral(toks[j].text) && !compareOps[strings.ToLower(toks[j].text)] {
			b, _ := json.Marshal(toks[j].text)
			toks[j] = token{tokQuoted, string(b)}
		} else if j < len(toks) && toks[j].kind == tokWord && (strings.EqualFold(toks[j].text, "true") || strings.EqualFold(toks[j].text, "false") || strings.EqualFold(toks[j].text, "null")) {
			toks[j].text = strings.ToLower(toks[j].text)
		}
	}
	// Rewrite attr[F].sub op value into attr[(F) and sub op value].
	for i := 0; i < len(toks); i++ {
		if toks[i].kind != tokPunct || toks[i].text != "]" || i+1 >= len(toks) {
			continue
		}
		sub := toks[i+1]
		if sub.kind != tokWord || !strings.HasPrefix(sub.text, ".") || len(sub.text) < 2 {
			continue
		}
		open := matchingOpen(toks, i)
		if open < 0 {
			continue
		}
		opIdx := nextNonSpace(toks, i+2)
		if opIdx >= len(toks) || toks[opIdx].kind != tokWord {
			continue
		}
		op := toks[opIdx].text
		end := opIdx + 1
		if op != "pr" {
			if !compareOps[op] {
				continue
			}
			v := nextNonSpace(toks, opIdx+1)
			if v >= len(toks) {
				continue
			}
			end = v + 1
		}
		// The parser takes no parentheses inside brackets, so an inner
		// filter with "or" becomes attr[F] and attr.sub op value (the same
		// element is not enforced then; the common forms use "and" only).
		hasOr := false
		for _, t := range toks[open+1 : i] {
			if t.kind == tokWord && t.text == "or" {
				hasOr = true
			}
		}
		var inner []token
		if hasOr && open > 0 && toks[open-1].kind == tokWord {
			inner = append(inner, toks[open:i+1]...)
			inner = append(inner, token{tokSpace, " "}, token{tokWord, "and"}, token{tokSpace, " "}, token{tokWord, toks[open-1].text + sub.text}, token{tokSpace, " "})
			inner = append(inner, toks[opIdx:end]...)
			toks = append(append(append([]token{}, toks[:open]...), inner...), toks[end:]...)
			continue
		}
		inner = append(inner, toks[open+1:i]...)
		inner = append(inner, token{tokSpace, " "}, token{tokWord, "and"}, token{tokSpace, " "}, token{tokWord, sub.text[1:]}, token{tokSpace, " "})
		inner = append(inner, toks[opIdx:end]...)
		inner = append(inner, token{tokPunct, "]"})
		rebuilt := append(append(append([]token{}, toks[:open+1]...), inner...), toks[end:]...)
		toks = rebuilt
		i = open
	}
	var b strings.Builder
	for _, t := range toks {
		b.WriteString(t.text)
	}
	return b.String()
}

func matchingOpen(toks []token, closeIdx int) int {
	depth := 0
	for k := closeIdx; k >= 0; k-- {
		if toks[k].kind != tokPunct {
			continue
		}
		switch toks[k].text {
		case "]":
			depth++
		case "[":
			depth--
			if depth == 0 {
				return k
			}
		}
	}
	return -1
}

// IsAttrName reports whether s looks like an attribute name (RFC 7643 §2.1).
func IsAttrName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if r == '$' && i == 0 {
			continue
		}
		if !(unicode.IsLetter(r) || (i > 0 && (unicode.IsDigit(r) || r == '_' || r == '-'))) {
			return false
		}
	}
	return true
}

// fastFilter handles the single comparison every IdP sends on every
// assignment (userName eq "x", externalId eq "y", title pr) without the
// general parser, which costs more than the rest of the request.
func fastFilter(raw string) (filter.Expression, bool) {
	var parts []token
	for _, t := range tokenize(raw) {
		if t.kind != tokSpace {
			parts = append(parts, t)
		}
	}
	if len(parts) < 2 || len(parts) > 3 || parts[0].kind != tokWord || parts[1].kind != tokWord {
		return nil, false
	}
	ap, ok := fastAttrPath(parts[0].text)
	if !ok {
		return nil, false
	}
	op := strings.ToLower(parts[1].text)
	if len(parts) == 2 {
		if op != "pr" {
			return nil, false
		}
		return &filter.AttributeExpression{AttributePath: ap, Operator: filter.PR}, true
	}
	if !compareOps[op] {
		return nil, false
	}
	var value any
	v := parts[2]
	switch {
	case v.kind == tokQuoted:
		var s string
		if err := json.Unmarshal([]byte(v.text), &s); err != nil {
			return nil, false
		}
		value = s
	case v.kind == tokWord:
		switch strings.ToLower(v.text) {
		case "true":
			value = true
		case "false":
			value = false
		case "null":
			value = nil
		default:
			var n json.Number
			if json.Unmarshal([]byte(v.text), &n) == nil {
				value = n
			} else {
				value = v.text // a bare value, as some clients send
			}
		}
	default:
		return nil, false
	}
	return &filter.AttributeExpression{AttributePath: ap, Operator: filter.CompareOperator(op), CompareValue: value}, true
}

// fastAttrPath splits [urn:...:]name[.sub] without the general parser.
func fastAttrPath(s string) (filter.AttributePath, bool) {
	var ap filter.AttributePath
	rest := s
	if strings.HasPrefix(strings.ToLower(s), "urn:") {
		i := strings.LastIndexByte(s, ':')
		if i <= 4 || i == len(s)-1 {
			return ap, false
		}
		uri := s[:i]
		ap.URIPrefix = &uri
		rest = s[i+1:]
	}
	name, sub, hasSub := strings.Cut(rest, ".")
	if !IsAttrName(name) || (hasSub && !IsAttrName(sub)) {
		return ap, false
	}
	ap.AttributeName = name
	if hasSub {
		ap.SubAttribute = &sub
	}
	return ap, true
}
