package eventstore

import "strconv"

func formatInt(i int64) string     { return strconv.FormatInt(i, 10) }
func formatFloat(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }
