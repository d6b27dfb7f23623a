// Package filterpattern parses and matches CloudWatch Logs filter patterns:
// unstructured terms (with quoted phrases, ?alternatives and -exclusions),
// %regex%, JSON patterns ({ $.a.b = "x" && $.n > 5 }) and space-delimited
// patterns ([ip, user, ..., status = 4*, bytes]). One parser serves
// FilterLogEvents, live tail and, later, metric and subscription filters.
//
// Matching is case-sensitive as in CloudWatch. Terms match as substrings
// ("ERROR" matches "ERRORCODE"). An unquoted term may contain punctuation
// (/api/v1, user=alice): only whitespace ends it. Regexes use Go's RE2
// syntax restricted to the characters CloudWatch allows; parentheses and
// multi-byte characters are refused, as are more than two regexes.
//
// It imports only the event store's value and tokenizer types.
package filterpattern
