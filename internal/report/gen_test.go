package report

import (
	"fmt"
	"iter"
	"time"

	"github.com/shopspring/decimal"
)

// genSource generates n lines of its statement's first customer on the fly,
// so that a large export measures the writer, not the test's lines.
type genSource struct {
	st    Statement
	n     int
	total tally
}

var genModels = []string{ModelPAYG, ModelPAYG, ModelPAYG, ModelCommitted, ModelOverage}

var genGroups = [][2]string{{"compute", "Compute"}, {"storage", "Storage"}, {"network", "Network"}, {"backup", "Backup"}}

func (g *genSource) Statement() Statement { return g.st }

func (g *genSource) Lines() iter.Seq2[Line, error] {
	return func(yield func(Line, error) bool) {
		price := d("0.0125")
		for i := range g.n {
			grp := genGroups[i%len(genGroups)]
			qty := decimal.New(int64(1000+i%5000), -1) // 100.0 … 599.9
			l := Line{
				CustomerID: g.st.Customers[0].ID, ResourceID: fmt.Sprintf("vm-%06d", i),
				ProductGroupID: grp[0], ProductGroupName: grp[1],
				ProductID: grp[0] + "-std", ProductName: grp[1] + " (standard)", MetricKey: grp[0],
				Model: genModels[i%len(genModels)], Granularity: GranularityHour,
				Start: aprFrom.Add(hour(i)), End: aprFrom.Add(hour(i + 1)),
				Quantity: qty, Unit: "unit-h", UnitPrice: price, Amount: qty.Mul(price).Round(2), Currency: "EUR",
				PriceListID: "pl-default", PriceID: "pe-" + grp[0], Description: fmt.Sprintf("%s usage of vm-%06d", grp[1], i),
				Dimensions: map[string]string{"policy": "gold"},
			}
			g.total.add(l.Currency, l.Amount)
			if !yield(l, nil) {
				return
			}
		}
	}
}

func (g *genSource) Totals() []Total { return g.total.list("") }

func hour(i int) time.Duration { return time.Duration(i%720) * time.Hour }
