package codec

// CheckUTF8 is exported to the benchmarks.
var CheckUTF8 = checkUTF8
