package yamlpos

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// CheckText finds, with its position, what makes b unreadable as YAML,
// which the YAML decoders report without a position: a byte that is not
// UTF-8, a character YAML does not allow (a NUL byte, a control
// character), a %YAML directive other than 1.1, and an alias to an anchor
// not defined before it. It returns false when it finds none of these.
//
// What a text scan suspects is confirmed by the decoder: reported only when
// decoding b's first document fails with an error that has no position.
// A text the decoders accept is never refused (a NUL byte past the first
// document of a test file, which promtool never reads, stays accepted).
func CheckText(b []byte) (Message, bool) {
	m, ok := checkChars(b)
	if !ok {
		m, ok = checkDirectives(b)
	}
	if ok {
		var n yaml.Node
		if err := yaml.Unmarshal(b, &n); err != nil && decoderSays(err.Error()) {
			return m, true
		}
		return Message{}, false // accepted, or refused for another reason
	}
	return checkAliases(b)
}

// decoderSays reports whether a decoder's message is one CheckText places:
// the reader's refusal of a byte or character, or of a %YAML directive
// (whose line the decoder may give wrong).
func decoderSays(msg string) bool {
	for _, s := range []string{"UTF-8 octet", "control characters are not allowed", "incompatible YAML document"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// checkChars is the YAML reader's check: UTF-8, and only the characters
// #x9 | #xA | #xD | [#x20-#x7E] | #x85 | [#xA0-#xD7FF] | [#xE000-#xFFFD] |
// [#x10000-#x10FFFF].
func checkChars(b []byte) (Message, bool) {
	line, col := 1, 1
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			return Message{Line: line, Column: col, Msg: fmt.Sprintf("invalid UTF-8: byte 0x%02x (YAML files are UTF-8 text)", b[i])}, true
		case !allowed(r):
			return Message{Line: line, Column: col, Msg: fmt.Sprintf("character %U is not allowed in YAML (a control character or NUL byte)", r)}, true
		}
		if r == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
		i += size
	}
	return Message{}, false
}

func allowed(r rune) bool {
	switch {
	case r == 0x9, r == 0xA, r == 0xD, r >= 0x20 && r <= 0x7E, r == 0x85:
		return true
	case r >= 0xA0 && r <= 0xD7FF, r >= 0xE000 && r <= 0xFFFD, r >= 0x10000 && r <= 0x10FFFF:
		return true
	}
	return false
}

var yamlDirective = regexp.MustCompile(`^%YAML[ \t]+(\S+)`)

// checkDirectives finds a %YAML directive the decoders refuse: they read
// YAML 1.1 only.
func checkDirectives(b []byte) (Message, bool) {
	if !bytes.Contains(b, []byte("%YAML")) {
		return Message{}, false
	}
	for i, l := range strings.Split(string(b), "\n") {
		if m := yamlDirective.FindStringSubmatch(l); m != nil && m[1] != "1.1" {
			return Message{Line: i + 1, Column: 1, Msg: fmt.Sprintf("%%YAML %s: unsupported YAML version (only %%YAML 1.1, or no directive, is read)", m[1])}, true
		}
	}
	return Message{}, false
}

// alias matches an alias (*name) where one may start; anchor an anchor.
var (
	alias  = regexp.MustCompile(`(?:^|[\s\[{,:?-])\*([^\s,\[\]{}]+)`)
	anchor = regexp.MustCompile(`(?:^|[\s\[{,:?-])&([^\s,\[\]{}]+)`)
)

// checkAliases finds an alias to an anchor not defined before it. A text
// scan suspects one (a * in an expression may look like an alias); the
// decoder's error confirms it.
func checkAliases(b []byte) (Message, bool) {
	if !bytes.Contains(b, []byte("*")) {
		return Message{}, false
	}
	aliases := alias.FindAllSubmatchIndex(b, -1)
	if len(aliases) == 0 {
		return Message{}, false
	}
	defined := map[string]int{} // anchor name -> offset of its first definition
	for _, m := range anchor.FindAllSubmatchIndex(b, -1) {
		name := string(b[m[2]:m[3]])
		if _, ok := defined[name]; !ok {
			defined[name] = m[2]
		}
	}
	// The decoder names the first undefined anchor; parsed once, on the
	// first suspect.
	var name string
	for _, m := range aliases {
		n := string(b[m[2]:m[3]])
		if at, ok := defined[n]; ok && at < m[2] {
			continue
		}
		if name == "" {
			var node yaml.Node
			err := yaml.Unmarshal(b, &node)
			if err == nil {
				return Message{}, false
			}
			msg := err.Error()
			i := strings.Index(msg, "unknown anchor '")
			if i < 0 {
				return Message{}, false
			}
			name, _, _ = strings.Cut(msg[i+len("unknown anchor '"):], "' referenced")
		}
		if n != name {
			continue
		}
		line, col := offsetPosition(b, m[2]-1)
		return Message{Line: line, Column: col, Msg: fmt.Sprintf("alias *%s: no anchor &%s defined before it", n, n)}, true
	}
	return Message{}, false
}

// offsetPosition returns the 1-based line and column (in characters) of the
// byte at offset off.
func offsetPosition(b []byte, off int) (int, int) {
	before := b[:off]
	line := bytes.Count(before, []byte("\n")) + 1
	start := bytes.LastIndexByte(before, '\n') + 1
	return line, utf8.RuneCount(before[start:]) + 1
}
