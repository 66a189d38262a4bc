package rpc

// patternMessages say in words what the protos' regular expressions
// accept, so that a violation tells a person what to send rather than
// quoting the expression.
var patternMessages = map[string]string{
	`^$|^\d+(\.\d+)?$`:                    "must be a decimal number such as 12.50",
	`^\d+(\.\d+)?$`:                       "must be a decimal number such as 12.50",
	`^-?\d+(\.\d+)?$`:                     "must be a decimal number such as 12.50 (negative, e.g. -2.5, to correct a counter)",
	`^[A-Z]{3}$`:                          "must be a three-letter ISO 4217 currency code such as EUR",
	`^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$`: "must be 1 to 128 letters, digits, '.', '_', ':' or '-', starting with a letter or digit",
	`^\d{4}-(0[1-9]|1[0-2])$`:             "must be a month such as 2026-10",
	`^$|^[A-Za-z][A-Za-z0-9_+/-]*$`:       "must be an IANA time zone such as Europe/Amsterdam",
	`^[A-Za-z_][A-Za-z0-9_.-]{0,63}$`:     "must be 1 to 64 letters, digits, '_', '.' or '-', starting with a letter or '_'",
	`^$|^[A-Za-z_][A-Za-z0-9_.-]{0,63}$`:  "must be empty or 1 to 64 letters, digits, '_', '.' or '-', starting with a letter or '_'",
	`^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$`:    "must be lower-case letters, digits and '_', in parts joined by dots, such as vm.vcpu",
}
