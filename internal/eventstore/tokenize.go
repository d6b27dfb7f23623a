package eventstore

// Tokenize calls fn with every token of s, in order, duplicates included.
// A token is a maximal run of ASCII letters, digits and '_' — exactly what
// RE2's \b treats as word characters, so /\bword\b/ requires the token
// "word". Other bytes, UTF-8 included, separate tokens. Token blooms index
// exactly these tokens, so a needle given to Query.Needles must be one.
//
// The substrings passed to fn alias s.
func Tokenize(s string, fn func(tok string)) {
	start := -1
	for i := 0; i < len(s); i++ {
		if isTokenByte(s[i]) {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 {
			fn(s[start:i])
			start = -1
		}
	}
	if start >= 0 {
		fn(s[start:])
	}
}

// InteriorTokens returns the tokens that any string containing lit as a
// substring must also contain whole: those with a non-token byte (or the
// end of lit that is itself a separator) on both sides inside lit. A
// front end with substring semantics uses them as Query.Needles.
//
// For "user=alice id=42 " it returns ["alice", "id", "42"]; "user" could
// be the tail of a longer token, and so could "42" without the trailing
// space.
func InteriorTokens(lit string) []string {
	var out []string
	start := -1
	for i := 0; i <= len(lit); i++ {
		if i < len(lit) && isTokenByte(lit[i]) {
			if start < 0 {
				start = i
			}
			continue
		}
		if start > 0 && i < len(lit) {
			out = append(out, lit[start:i])
		}
		start = -1
	}
	return out
}

func isTokenByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}
