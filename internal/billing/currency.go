package billing

import (
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/billingd/billingd/internal/apperr"
)

// billingCurrency is the currency customer id is billed in, with why (for
// messages), or "" when nothing in the book can price the customer. The
// rule is in the package documentation.
func (r *rater) billingCurrency(id string) (cur, why string, err error) {
	own, def := r.owners[id], r.owners[""]
	if id == "" { // no customer has the empty id; be safe
		own = nil
	}
	contracts := currencies(own, func(o *owner) map[string]bool { return o.contractCurs })
	// settle picks the one currency of cands, or the one of the customer's
	// contracts when that is among several cands.
	settle := func(cands []string, why string) (string, string, bool) {
		switch {
		case len(cands) == 1:
			return cands[0], why, true
		case len(contracts) == 1 && slices.Contains(cands, contracts[0]):
			return contracts[0], "the currency of its contracts", true
		}
		return "", "", false
	}
	contractsToo := ""
	if len(contracts) > 0 {
		contractsToo = " and its contracts in " + joinAnd(contracts)
	}
	if lists := currencies(own, func(o *owner) map[string]bool { return o.lists }); len(lists) > 0 {
		if cur, why, ok := settle(lists, "the currency of its price list"); ok {
			return cur, why, nil
		}
		return "", "", apperr.FailedPrecondition("customer %s has price lists in %s%s; billingd bills a customer in one currency",
			id, joinAnd(lists), contractsToo)
	}
	if lists := currencies(def, func(o *owner) map[string]bool { return o.lists }); len(lists) > 0 {
		if cur, why, ok := settle(lists, "the currency of the default price list"); ok {
			return cur, why, nil
		}
		return "", "", apperr.FailedPrecondition("customer %s has no price list of its own, the default price lists are in %s%s; "+
			"billingd bills a customer in one currency: give the customer a price list (it may be empty) in the currency to bill it in",
			id, joinAnd(lists), contractsToo)
	}
	if cur, why, ok := settle(contracts, "the currency of its contracts"); ok {
		return cur, why, nil
	} else if len(contracts) > 1 {
		return "", "", apperr.FailedPrecondition("customer %s has contracts in %s; billingd bills a customer in one currency", id, joinAnd(contracts))
	}
	campaigns := func(o *owner) map[string]bool { return o.campaignCurs }
	if curs := currencies(own, campaigns); len(curs) == 1 {
		return curs[0], "the currency of its campaigns", nil
	} else if len(curs) > 1 {
		return "", "", apperr.FailedPrecondition("customer %s has no price list and no contract but campaigns in %s; billingd bills a customer in one currency",
			id, joinAnd(curs))
	}
	if curs := currencies(def, campaigns); len(curs) == 1 {
		return curs[0], "the currency of the default campaigns", nil
	} else if len(curs) > 1 {
		return "", "", apperr.FailedPrecondition("customer %s has no price list, contract or campaign of its own and there are no default price lists "+
			"but default campaigns in %s; billingd bills a customer in one currency", id, joinAnd(curs))
	}
	return "", "", nil
}

// currencyFor is the currency customer id is billed in over [from, to). A
// contract or campaign of the customer in force then in another currency
// would be left out of the bill: it fails the query, naming them.
func (r *rater) currencyFor(id string, from, to time.Time) (string, error) {
	cur, why, err := r.billingCurrency(id)
	if err != nil {
		return "", err
	}
	o := r.owners[id]
	if o == nil || id == "" {
		return cur, nil
	}
	var wrong []string
	for _, c := range o.contracts {
		if c.Currency != cur && c.StartTime.Before(to) && (c.EndTime.IsZero() || c.EndTime.After(from)) {
			wrong = append(wrong, "contract "+c.ID+" is in "+c.Currency)
		}
	}
	for _, c := range o.campaigns {
		if c.Currency != cur && c.ValidFrom.Before(to) && (c.ValidTo.IsZero() || c.ValidTo.After(from)) {
			wrong = append(wrong, "campaign "+c.ID+" is in "+c.Currency)
		}
	}
	if len(wrong) > 0 {
		return "", apperr.FailedPrecondition("customer %s is billed in %s (%s), but %s; billingd bills a customer in one currency",
			id, cur, why, joinAnd(wrong))
	}
	return cur, nil
}

// currencies are the currencies pick(o) holds, sorted; none for a nil o.
func currencies(o *owner, pick func(*owner) map[string]bool) []string {
	if o == nil {
		return nil
	}
	return slices.Sorted(maps.Keys(pick(o)))
}

// joinAnd joins "EUR", "GBP", "USD" as "EUR, GBP and USD".
func joinAnd(xs []string) string {
	if len(xs) < 2 {
		return strings.Join(xs, "")
	}
	return strings.Join(xs[:len(xs)-1], ", ") + " and " + xs[len(xs)-1]
}
