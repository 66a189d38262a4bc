package billing

// BuildRater builds the rater of b and drops it: what a query spends on
// the price book besides reading it, for benchmarks.
func BuildRater(b Book) error {
	_, err := newRater(b)
	return err
}

// CachedBooks is how many versions of the price book s keeps raters of,
// loaded or loading.
func (s *Service) CachedBooks() int { return s.books.size() }
