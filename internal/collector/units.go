package collector

import "github.com/shopspring/decimal"

// Conversions from the base units platforms report to billing units, in one
// place. "GB" in billingd's metric names is the binary gigabyte (GiB,
// 2^30 bytes), the unit vSphere, VCD and the backup products label "GB".

// gbPlaces bounds the decimals of a size in GB: 2^-30 needs 30 digits to be
// exact, and a millionth of a GB (about 1 KiB) is far below any price.
const gbPlaces = 6

var (
	bytesPerGB = decimal.NewFromInt(1 << 30)
	mibPerGB   = decimal.NewFromInt(1 << 10)
)

// BytesToGB converts bytes to GB (GiB), rounded half away from zero to six decimals.
func BytesToGB(b int64) decimal.Decimal {
	return decimal.NewFromInt(b).DivRound(bytesPerGB, gbPlaces)
}

// MiBToGB converts MiB to GB (GiB); exact, since 1/1024 has ten decimals.
func MiBToGB(m int64) decimal.Decimal {
	return decimal.NewFromInt(m).DivRound(mibPerGB, 10)
}
