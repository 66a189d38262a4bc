// Package clock injects the current time into services so that tests can
// fix it. It must not hold any other state: time zones, periods and granules
// belong to the domain packages.
package clock
