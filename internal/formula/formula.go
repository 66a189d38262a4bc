// Package formula compiles the expression of a derived metric, such as
// "vm.vcpu * vm.powered_on" or "max(vm.memory_gb * 0.5,
// vm.memory_reservation_gb)", and evaluates it over exact decimals.
//
// The syntax is CEL's, parsed by cel-go; billingd checks and evaluates the
// tree itself, because CEL's doubles are binary floating point: here a
// numeric literal is the exact decimal written in the source (0.1 is one
// tenth), integers and decimals mix freely, and arithmetic is
// shopspring/decimal's. What an expression may use:
//
//   - metric keys (vm.vcpu) and numeric literals, which are numbers;
//   - + - * / and unary -, on numbers; a quotient is rounded to 12 decimal
//     places, half away from zero, and dividing by zero gives 0;
//   - max(a, b, …) and min(a, b, …) of two or more numbers;
//   - < <= > >= == != on numbers, && || ! on their results, and
//     cond ? a : b with numbers on both branches.
//
// The result must be a number. Errors name the position (line:column) of
// the offending part.
package formula

import (
	"fmt"
	"slices"
	"strings"

	"cel.dev/cel-go/common"
	"cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/common/operators"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/parser"
	"github.com/shopspring/decimal"
)

// MaxLength bounds an expression's source, and MaxNodes its size.
const (
	MaxLength = 1000
	MaxNodes  = 200
)

// quotientPlaces is the precision of a division.
const quotientPlaces = 12

// Formula is a compiled expression. It is immutable and safe for
// concurrent use.
type Formula struct {
	source string
	root   node
	inputs []string // metric keys, each once, in order of first use
}

// Error is a problem at a position of the expression.
type Error struct {
	Line, Column int // 1-based
	Msg          string
}

func (e *Error) Error() string { return fmt.Sprintf("%s (at %d:%d)", e.Msg, e.Line, e.Column) }

// Compile parses and checks src. metric reports whether a key names a
// metric the expression may use (nil: a message saying why not); a nil
// metric accepts every key, for an expression checked when it was stored.
func Compile(src string, metric func(key string) error) (*Formula, error) {
	if strings.TrimSpace(src) == "" {
		return nil, &Error{Line: 1, Column: 1, Msg: "the expression is empty"}
	}
	if len(src) > MaxLength {
		return nil, &Error{Line: 1, Column: 1, Msg: fmt.Sprintf("the expression is longer than %d characters", MaxLength)}
	}
	p, err := parser.NewParser(parser.MaxRecursionDepth(64))
	if err != nil {
		return nil, err
	}
	tree, errs := p.Parse(common.NewTextSource(src))
	if errs != nil && len(errs.GetErrors()) > 0 {
		e := errs.GetErrors()[0]
		msg := e.Message
		if i := strings.Index(msg, "\n"); i >= 0 {
			msg = msg[:i]
		}
		return nil, &Error{Line: e.Location.Line(), Column: e.Location.Column() + 1, Msg: "syntax error: " + msg}
	}
	c := &compiler{src: []rune(src), info: tree.SourceInfo(), metric: metric, seen: map[string]bool{}}
	root, kind, err := c.compile(tree.Expr())
	if err != nil {
		return nil, err
	}
	if kind != number {
		return nil, c.errAt(tree.Expr(), "the expression must give a number, not a condition")
	}
	return &Formula{source: src, root: root, inputs: c.inputs}, nil
}

// Source is the expression as written.
func (f *Formula) Source() string { return f.source }

// Inputs are the metric keys the expression reads, each once.
func (f *Formula) Inputs() []string { return slices.Clone(f.inputs) }

// Eval computes the expression with levels[i] the value of Inputs()[i].
func (f *Formula) Eval(levels []decimal.Decimal) decimal.Decimal {
	v := f.root.eval(levels)
	return v.num
}

type kind int

const (
	number kind = iota + 1
	condition
)

type value struct {
	num  decimal.Decimal
	cond bool
}

type node interface {
	eval(levels []decimal.Decimal) value
}

type compiler struct {
	src    []rune
	info   *ast.SourceInfo
	metric func(string) error
	seen   map[string]bool
	inputs []string
	nodes  int
}

func (c *compiler) errAt(e ast.Expr, format string, args ...any) error {
	for e.Kind() == ast.SelectKind { // vm.vcpu starts at vm, not at the dot
		e = e.AsSelect().Operand()
	}
	loc := c.info.GetStartLocation(e.ID())
	return &Error{Line: loc.Line(), Column: loc.Column() + 1, Msg: fmt.Sprintf(format, args...)}
}

func (c *compiler) compile(e ast.Expr) (node, kind, error) {
	if c.nodes++; c.nodes > MaxNodes {
		return nil, 0, c.errAt(e, "the expression has more than %d parts", MaxNodes)
	}
	switch e.Kind() {
	case ast.LiteralKind:
		return c.literal(e)
	case ast.IdentKind, ast.SelectKind:
		key, ok := dotted(e)
		if !ok {
			return nil, 0, c.errAt(e, "only metric keys such as vm.vcpu can be referred to")
		}
		if c.metric != nil {
			if err := c.metric(key); err != nil {
				return nil, 0, c.errAt(e, "%s", err.Error())
			}
		}
		if !c.seen[key] {
			c.seen[key] = true
			c.inputs = append(c.inputs, key)
		}
		return input(slices.Index(c.inputs, key)), number, nil
	case ast.CallKind:
		return c.call(e)
	}
	return nil, 0, c.errAt(e, "lists, maps, messages and macros are not allowed; use numbers, metric keys and operators")
}

// dotted reads vm.memory_gb, which CEL parses as a selection of field
// memory_gb of variable vm.
func dotted(e ast.Expr) (string, bool) {
	switch e.Kind() {
	case ast.IdentKind:
		return e.AsIdent(), true
	case ast.SelectKind:
		s := e.AsSelect()
		if s.IsTestOnly() {
			return "", false
		}
		left, ok := dotted(s.Operand())
		return left + "." + s.FieldName(), ok
	}
	return "", false
}

func (c *compiler) literal(e ast.Expr) (node, kind, error) {
	switch v := e.AsLiteral().(type) {
	case types.Bool:
		return constant{cond: bool(v)}, condition, nil
	case types.Int, types.Uint, types.Double:
		// the exact decimal as written, not the parser's float64
		text := fmt.Sprint(v)
		if r, ok := c.info.GetOffsetRange(e.ID()); ok && int(r.Stop) <= len(c.src) && r.Start < r.Stop {
			text = strings.TrimRight(string(c.src[r.Start:r.Stop]), "uU")
		}
		d, err := decimal.NewFromString(text)
		if err != nil {
			return nil, 0, c.errAt(e, "%s is not a decimal number", text)
		}
		return constant{num: d}, number, nil
	}
	return nil, 0, c.errAt(e, "only numbers and true/false are allowed as literals")
}

func (c *compiler) call(e ast.Expr) (node, kind, error) {
	call := e.AsCall()
	if call.IsMemberFunction() {
		return nil, 0, c.errAt(e, "method calls are not allowed; use max(a, b) or min(a, b)")
	}
	name, args := call.FunctionName(), call.Args()
	nodes := make([]node, len(args))
	kinds := make([]kind, len(args))
	for i, a := range args {
		n, k, err := c.compile(a)
		if err != nil {
			return nil, 0, err
		}
		nodes[i], kinds[i] = n, k
	}
	want := func(k kind, what string) error {
		for i, got := range kinds {
			if got != k {
				return c.errAt(args[i], "%s needs %s", what, map[kind]string{number: "numbers", condition: "conditions"}[k])
			}
		}
		return nil
	}
	switch name {
	case operators.Add, operators.Subtract, operators.Multiply, operators.Divide:
		if err := want(number, "arithmetic"); err != nil {
			return nil, 0, err
		}
		return arith{op: name, a: nodes[0], b: nodes[1]}, number, nil
	case operators.Negate:
		if err := want(number, "unary minus"); err != nil {
			return nil, 0, err
		}
		return arith{op: operators.Subtract, a: constant{}, b: nodes[0]}, number, nil
	case "max", "min":
		if len(args) < 2 {
			return nil, 0, c.errAt(e, "%s needs at least two numbers", name)
		}
		if err := want(number, name); err != nil {
			return nil, 0, err
		}
		return extreme{max: name == "max", args: nodes}, number, nil
	case operators.Less, operators.LessEquals, operators.Greater, operators.GreaterEquals, operators.Equals, operators.NotEquals:
		if err := want(number, "a comparison"); err != nil {
			return nil, 0, err
		}
		return compare{op: name, a: nodes[0], b: nodes[1]}, condition, nil
	case operators.LogicalAnd, operators.LogicalOr, operators.LogicalNot:
		if err := want(condition, "&&, || and !"); err != nil {
			return nil, 0, err
		}
		return logic{op: name, args: nodes}, condition, nil
	case operators.Conditional:
		if kinds[0] != condition {
			return nil, 0, c.errAt(args[0], "the condition of ? : must be a comparison")
		}
		if kinds[1] != number || kinds[2] != number {
			return nil, 0, c.errAt(e, "both branches of ? : must be numbers")
		}
		return choose{cond: nodes[0], a: nodes[1], b: nodes[2]}, number, nil
	}
	return nil, 0, c.errAt(e, "unknown function or operator %q; allowed: + - * / max min < <= > >= == != && || ! ? :",
		strings.Trim(name, "_"))
}

type constant value

func (k constant) eval([]decimal.Decimal) value { return value(k) }

type input int

func (i input) eval(levels []decimal.Decimal) value { return value{num: levels[i]} }

type arith struct {
	op   string
	a, b node
}

func (n arith) eval(levels []decimal.Decimal) value {
	a, b := n.a.eval(levels).num, n.b.eval(levels).num
	switch n.op {
	case operators.Add:
		return value{num: a.Add(b)}
	case operators.Subtract:
		return value{num: a.Sub(b)}
	case operators.Multiply:
		return value{num: a.Mul(b)}
	}
	if b.IsZero() {
		return value{}
	}
	return value{num: a.DivRound(b, quotientPlaces)}
}

type extreme struct {
	max  bool
	args []node
}

func (n extreme) eval(levels []decimal.Decimal) value {
	best := n.args[0].eval(levels).num
	for _, a := range n.args[1:] {
		v := a.eval(levels).num
		if n.max && v.GreaterThan(best) || !n.max && v.LessThan(best) {
			best = v
		}
	}
	return value{num: best}
}

type compare struct {
	op   string
	a, b node
}

func (n compare) eval(levels []decimal.Decimal) value {
	c := n.a.eval(levels).num.Cmp(n.b.eval(levels).num)
	var r bool
	switch n.op {
	case operators.Less:
		r = c < 0
	case operators.LessEquals:
		r = c <= 0
	case operators.Greater:
		r = c > 0
	case operators.GreaterEquals:
		r = c >= 0
	case operators.Equals:
		r = c == 0
	default:
		r = c != 0
	}
	return value{cond: r}
}

type logic struct {
	op   string
	args []node
}

func (n logic) eval(levels []decimal.Decimal) value {
	switch n.op {
	case operators.LogicalNot:
		return value{cond: !n.args[0].eval(levels).cond}
	case operators.LogicalAnd:
		return value{cond: n.args[0].eval(levels).cond && n.args[1].eval(levels).cond}
	}
	return value{cond: n.args[0].eval(levels).cond || n.args[1].eval(levels).cond}
}

type choose struct{ cond, a, b node }

func (n choose) eval(levels []decimal.Decimal) value {
	if n.cond.eval(levels).cond {
		return n.a.eval(levels)
	}
	return n.b.eval(levels)
}
