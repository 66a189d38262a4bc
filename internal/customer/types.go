package customer

import "time"

// Customer is a billing account.
type Customer struct {
	ID              string
	ExternalID      string // the provider's ERP id; unique when set
	DisplayName     string
	BillingTimeZone string // IANA name in which days and months start; default "UTC"
	Labels          map[string]string
	CreateTime      time.Time
	UpdateTime      time.Time
}

// Organisation is a tenant inside a customer; its ID is unique within the customer.
type Organisation struct {
	CustomerID  string
	ID          string
	DisplayName string
	CreateTime  time.Time
	UpdateTime  time.Time
}

// Vdc is a virtual data centre or project inside an organisation; its ID is
// unique within the organisation.
type Vdc struct {
	CustomerID     string
	OrganisationID string
	ID             string
	DisplayName    string
	CreateTime     time.Time
	UpdateTime     time.Time
}
