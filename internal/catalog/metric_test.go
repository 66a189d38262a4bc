package catalog_test

import (
	"strings"
	"testing"
	"time"

	"github.com/billingd/billingd/internal/apperr"
	"github.com/billingd/billingd/internal/catalog"
)

func TestMetricCRUD(t *testing.T) {
	t.Parallel()
	svc, _, clk := newService(t)
	m, err := svc.CreateMetric(ctx, catalog.CreateMetricInput{Metric: vcpu()})
	must(t, err)
	want := vcpu()
	want.CreateTime, want.UpdateTime = t0, t0
	same(t, m, want)
	got, err := svc.GetMetric(ctx, "vm.vcpu")
	must(t, err)
	same(t, got, want)
	_, err = svc.CreateMetric(ctx, catalog.CreateMetricInput{Metric: vcpu()})
	wantKind(t, err, apperr.KindAlreadyExists)

	clk.Advance(time.Hour)
	upd := catalog.Metric{Key: "vm.vcpu", DisplayName: "Virtual CPU", Unit: "ignored"}
	m, err = svc.UpdateMetric(ctx, catalog.UpdateMetricInput{Metric: upd, UpdateMask: []string{"display_name"}})
	must(t, err)
	want.DisplayName, want.UpdateTime = "Virtual CPU", t0.Add(time.Hour)
	same(t, m, want)
	got, _ = svc.GetMetric(ctx, "vm.vcpu")
	same(t, got, want)

	ms, next, err := svc.ListMetrics(ctx, catalog.ListMetricsParams{})
	must(t, err)
	same(t, []any{len(ms), next}, []any{1, ""})

	must(t, svc.DeleteMetric(ctx, "vm.vcpu"))
	_, err = svc.GetMetric(ctx, "vm.vcpu")
	wantKind(t, err, apperr.KindNotFound)
	wantKind(t, svc.DeleteMetric(ctx, "vm.vcpu"), apperr.KindNotFound)
}

func TestMetricValidation(t *testing.T) {
	t.Parallel()
	svc, _, _ := newService(t)
	for _, tc := range []struct {
		name   string
		edit   func(m *catalog.Metric)
		fields []string
	}{
		{"empty key", func(m *catalog.Metric) { m.Key = "" }, []string{"key"}},
		{"upper-case key", func(m *catalog.Metric) { m.Key = "VM.vcpu" }, []string{"key"}},
		{"key with empty segment", func(m *catalog.Metric) { m.Key = "vm..vcpu" }, []string{"key"}},
		{"key too long", func(m *catalog.Metric) { m.Key = "a" + strings.Repeat("b", 100) }, []string{"key"}},
		{"no unit", func(m *catalog.Metric) { m.Unit = "" }, []string{"unit"}},
		{"unit too long", func(m *catalog.Metric) { m.Unit = strings.Repeat("u", 33) }, []string{"unit"}},
		{"no aggregation", func(m *catalog.Metric) { m.Aggregation = 0 }, []string{"aggregation"}},
		{"unknown aggregation", func(m *catalog.Metric) { m.Aggregation = 99 }, []string{"aggregation"}},
		{"unique_count without dimension", func(m *catalog.Metric) { m.Aggregation = catalog.AggregationUniqueCount }, []string{"unique_dimension"}},
		{"dimension without unique_count", func(m *catalog.Metric) { m.UniqueDimension = "vm_id" }, []string{"unique_dimension"}},
		{"bad dimension", func(m *catalog.Metric) {
			m.Aggregation, m.UniqueDimension = catalog.AggregationUniqueCount, "9vm"
		}, []string{"unique_dimension"}},
		{"long display name", func(m *catalog.Metric) { m.DisplayName = strings.Repeat("x", 201) }, []string{"display_name"}},
		{"long description", func(m *catalog.Metric) { m.Description = strings.Repeat("x", 2001) }, []string{"description"}},
		{"all at once", func(m *catalog.Metric) { m.Key, m.Unit, m.Aggregation = "", "", 0 }, []string{"key", "unit", "aggregation"}},
	} {
		m := vcpu()
		tc.edit(&m)
		_, err := svc.CreateMetric(ctx, catalog.CreateMetricInput{Metric: m})
		t.Run(tc.name, func(t *testing.T) { wantFields(t, err, tc.fields...) })
	}
	_, err := svc.CreateMetric(ctx, catalog.CreateMetricInput{Metric: vcpu(), RequestID: "not-a-uuid"})
	wantFields(t, err, "request_id")

	ms, _, err := svc.ListMetrics(ctx, catalog.ListMetricsParams{})
	must(t, err)
	same(t, len(ms), 0) // no bad request wrote anything
}

func TestMetricUpdateMask(t *testing.T) {
	t.Parallel()
	svc, _, _ := newService(t)
	_, err := svc.CreateMetric(ctx, catalog.CreateMetricInput{Metric: vcpu()})
	must(t, err)
	update := func(m catalog.Metric, mask ...string) (catalog.Metric, error) {
		return svc.UpdateMetric(ctx, catalog.UpdateMetricInput{Metric: m, UpdateMask: mask})
	}

	_, err = update(vcpu(), "key")
	wantFields(t, err, "update_mask")
	_, err = update(vcpu(), "create_time")
	wantFields(t, err, "update_mask")
	_, err = update(vcpu(), "no_such_field")
	wantFields(t, err, "update_mask")
	_, err = update(catalog.Metric{Key: "no.such"}, "display_name")
	wantKind(t, err, apperr.KindNotFound)

	// The aggregation cannot change (history would be rewritten) …
	m := vcpu()
	m.Aggregation = catalog.AggregationMax
	_, err = update(m, "aggregation")
	wantKind(t, err, apperr.KindFailedPrecondition)
	_, err = update(m) // … also not through an empty mask
	wantKind(t, err, apperr.KindFailedPrecondition)
	// … but naming it with the same value is fine.
	_, err = update(vcpu(), "aggregation", "description")
	must(t, err)

	// An empty mask sets every mutable field; an unset aggregation keeps the stored one.
	got, err := update(catalog.Metric{Key: "vm.vcpu", DisplayName: "CPU", Description: "allocated", Unit: "core"})
	must(t, err)
	same(t, []any{got.DisplayName, got.Description, got.Unit, got.Aggregation},
		[]any{"CPU", "allocated", "core", catalog.AggregationTimeWeightedAvg})

	// The merged metric is validated: clearing the unit is invalid and changes nothing.
	_, err = update(catalog.Metric{Key: "vm.vcpu"}, "unit")
	wantFields(t, err, "unit")
	after, _ := svc.GetMetric(ctx, "vm.vcpu")
	same(t, after, got)
}
