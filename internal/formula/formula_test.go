package formula

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/shopspring/decimal"
)

var metrics = map[string]bool{"vm.vcpu": true, "vm.powered_on": true, "vm.memory_gb": true, "vm.memory_reservation_gb": true, "vdc.cpu_allocation_ghz": true, "vdc.cpu_used_ghz": true}

func known(key string) error {
	if !metrics[key] {
		return fmt.Errorf("unknown metric %q", key)
	}
	return nil
}

func TestEval(t *testing.T) {
	cases := []struct {
		src    string
		levels map[string]string
		want   string
	}{
		{"vm.vcpu * vm.powered_on", map[string]string{"vm.vcpu": "4", "vm.powered_on": "1"}, "4"},
		{"vm.vcpu * vm.powered_on", map[string]string{"vm.vcpu": "4", "vm.powered_on": "0"}, "0"},
		{"max(vm.memory_gb * 0.5, vm.memory_reservation_gb)", map[string]string{"vm.memory_gb": "16", "vm.memory_reservation_gb": "4"}, "8"},
		{"max(vm.memory_gb * 0.5, vm.memory_reservation_gb)", map[string]string{"vm.memory_gb": "16", "vm.memory_reservation_gb": "12"}, "12"},
		{"max(vdc.cpu_allocation_ghz, vdc.cpu_used_ghz)", map[string]string{"vdc.cpu_allocation_ghz": "10", "vdc.cpu_used_ghz": "12"}, "12"},
		// exact decimals, ints and decimals mixed: 0.1 + 0.2 is 0.3, not 0.30000000000000004
		{"vm.vcpu * 0.1 + 0.2", map[string]string{"vm.vcpu": "1"}, "0.3"},
		{"vm.vcpu / 3", map[string]string{"vm.vcpu": "1"}, "0.333333333333"},
		{"vm.vcpu / vm.powered_on", map[string]string{"vm.vcpu": "1", "vm.powered_on": "0"}, "0"},
		{"-vm.vcpu + 2", map[string]string{"vm.vcpu": "0.5"}, "1.5"},
		{"vm.powered_on > 0 && vm.vcpu >= 2 ? vm.vcpu : min(vm.vcpu, 1, 2)", map[string]string{"vm.vcpu": "4", "vm.powered_on": "1"}, "4"},
		{"vm.powered_on > 0 && vm.vcpu >= 2 ? vm.vcpu : min(vm.vcpu, 1, 2)", map[string]string{"vm.vcpu": "4", "vm.powered_on": "0"}, "1"},
		{"!(vm.vcpu == 4) || vm.vcpu != 4 ? 1 : 2", map[string]string{"vm.vcpu": "4"}, "2"},
		{"1e3 * vm.vcpu", map[string]string{"vm.vcpu": "0.001"}, "1"},
	}
	for _, c := range cases {
		f, err := Compile(c.src, known)
		if err != nil {
			t.Errorf("%s: %v", c.src, err)
			continue
		}
		levels := make([]decimal.Decimal, len(f.Inputs()))
		for i, k := range f.Inputs() {
			levels[i] = decimal.RequireFromString(c.levels[k])
		}
		if got := f.Eval(levels); !got.Equal(decimal.RequireFromString(c.want)) {
			t.Errorf("%s with %v = %s, want %s", c.src, c.levels, got, c.want)
		}
	}
}

func TestCompileErrors(t *testing.T) {
	cases := []struct{ src, want string }{
		{"", "the expression is empty (at 1:1)"},
		{"vm.vcpu *", "syntax error"},
		{"vm.vcpus * 2", `unknown metric "vm.vcpus" (at 1:1)`},
		{"2 * vm.cpu", `unknown metric "vm.cpu" (at 1:5)`},
		{"vm.vcpu > 2", "must give a number, not a condition (at 1:"},
		{"vm.vcpu && 2 > 1 ? 1 : 0", "&&, || and ! needs conditions (at 1:1)"},
		{"'4' * vm.vcpu", "only numbers and true/false are allowed as literals (at 1:1)"},
		{"max(vm.vcpu)", "max needs at least two numbers (at 1:"},
		{"size(vm.vcpu)", `unknown function or operator "size"`},
		{"vm.vcpu.size()", "method calls are not allowed"},
		{"[1, 2]", "lists, maps, messages and macros are not allowed"},
		{"vm.vcpu % 2", `unknown function or operator "%"`},
		{"vm.vcpu ? 1 : 2", "the condition of ? : must be a comparison (at 1:1)"},
		{strings.Repeat("1+", 600) + "1", "longer than 1000 characters"},
	}
	for _, c := range cases {
		_, err := Compile(c.src, known)
		var fe *Error
		if !errors.As(err, &fe) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want one containing %q", c.src, err, c.want)
		}
	}
}

func TestInputs(t *testing.T) {
	f, err := Compile("max(vm.memory_gb * 0.5, vm.memory_reservation_gb) + vm.memory_gb", known)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(f.Inputs(), ","); got != "vm.memory_gb,vm.memory_reservation_gb" {
		t.Errorf("inputs %s", got)
	}
}

func FuzzCompile(f *testing.F) {
	for _, s := range []string{"vm.vcpu * vm.powered_on", "max(1, 2) / 0", "a ? b : c", "1.5e400 * vm.vcpu", "-9223372036854775808"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		fm, err := Compile(src, known)
		if err != nil {
			return
		}
		levels := make([]decimal.Decimal, len(fm.Inputs()))
		for i := range levels {
			levels[i] = decimal.NewFromInt(int64(i))
		}
		fm.Eval(levels)
	})
}

// A nil metric check accepts any key: for an expression checked when stored.
func TestCompileWithoutCheck(t *testing.T) {
	f, err := Compile("a.b * c", nil)
	if err != nil || strings.Join(f.Inputs(), ",") != "a.b,c" {
		t.Errorf("Compile without a check: %v %v", f, err)
	}
}
