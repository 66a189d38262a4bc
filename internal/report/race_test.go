//go:build race

package report

// The race detector slows the large exports tenfold: TestLargeExport then
// streams fewer lines.
func init() { raceEnabled = true }
