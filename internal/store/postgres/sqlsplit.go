package postgres

import (
	"fmt"
	"strings"
)

// splitStatements cuts a migration file into its statements, so that
// Migrate sends them one at a time: Citus refuses a multi-statement string
// where it forwards a command to the workers ("cannot insert multiple
// commands into a prepared statement"). It knows the SQL lexemes that may
// hold a semicolon: string constants ('…', E'…' with backslash escapes),
// quoted identifiers, dollar-quoted bodies ($$…$$, $fn$…$fn$) and comments
// (-- to the end of the line, nested /* */). Statements that hold only
// comments and white space are dropped; comments inside a statement stay.
func splitStatements(sql string) ([]string, error) {
	var (
		out   []string
		start int  // of the current statement
		code  bool // the current statement has something besides comments
	)
	line := func(i int) int { return 1 + strings.Count(sql[:i], "\n") }
	for i := 0; i < len(sql); {
		c := sql[i]
		switch {
		case c == '-' && strings.HasPrefix(sql[i:], "--"):
			if j := strings.IndexByte(sql[i:], '\n'); j >= 0 {
				i += j + 1
			} else {
				i = len(sql)
			}
			continue
		case c == '/' && strings.HasPrefix(sql[i:], "/*"):
			depth, j := 1, i+2
			for depth > 0 {
				switch {
				case j >= len(sql):
					return nil, fmt.Errorf("line %d: unterminated /* comment", line(i))
				case strings.HasPrefix(sql[j:], "/*"):
					depth, j = depth+1, j+2
				case strings.HasPrefix(sql[j:], "*/"):
					depth, j = depth-1, j+2
				default:
					j++
				}
			}
			i = j
			continue
		case c == ';':
			if code {
				out = append(out, strings.TrimSpace(sql[start:i]))
			}
			i++
			start, code = i, false
			continue
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
			continue
		}
		code = true
		switch {
		case c == '\'':
			escapes := i > 0 && (sql[i-1] == 'E' || sql[i-1] == 'e') && (i < 2 || !identChar(sql[i-2]))
			j, err := endOfQuoted(sql, i, '\'', escapes)
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", line(i), err)
			}
			i = j
		case c == '"':
			j, err := endOfQuoted(sql, i, '"', false)
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", line(i), err)
			}
			i = j
		case c == '$' && (i == 0 || !identChar(sql[i-1])):
			tag, ok := dollarTag(sql[i:])
			if !ok {
				i++ // a parameter ($1) or an operator
				continue
			}
			end := strings.Index(sql[i+len(tag):], tag)
			if end < 0 {
				return nil, fmt.Errorf("line %d: unterminated %s quote", line(i), tag)
			}
			i += 2*len(tag) + end
		default:
			i++
		}
	}
	if code {
		out = append(out, strings.TrimSpace(sql[start:]))
	}
	return out, nil
}

// endOfQuoted returns the index after the quote closing the constant or
// identifier opened at sql[i]; a doubled quote stands for itself.
func endOfQuoted(sql string, i int, q byte, backslash bool) (int, error) {
	for j := i + 1; j < len(sql); j++ {
		switch {
		case backslash && sql[j] == '\\':
			j++
		case sql[j] == q && j+1 < len(sql) && sql[j+1] == q:
			j++
		case sql[j] == q:
			return j + 1, nil
		}
	}
	return 0, fmt.Errorf("unterminated %c quote", q)
}

// dollarTag returns the opening tag ($$ or $name$) at the start of s.
func dollarTag(s string) (string, bool) {
	for j := 1; j < len(s); j++ {
		c := s[j]
		switch {
		case c == '$':
			return s[:j+1], true
		case c >= '0' && c <= '9':
			if j == 1 {
				return "", false // $1: a parameter
			}
		case !identChar(c):
			return "", false
		}
	}
	return "", false
}

func identChar(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80
}
