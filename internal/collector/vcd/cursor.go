package vcd

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/billingd/billingd/internal/collector"
)

// state is the source's cursor: the end of the last window and what is
// needed to bill the next one exactly, persisted by the runner with the
// window it ends (spooled, then acknowledged). encoding/json sorts map
// keys, so the same state always gives the same cursor.
//
//	{"v":1,"t":"2026-01-01T01:00:00Z",
//	 "vms":{"<vm uuid>":{"c":"acme","o":"<org uuid>","d":"<vdc uuid>","a":"payg","cpu":2,"mem":4096,"st":40960,"p":"Gold","on":true}},
//	 "gone":{"<vm uuid>":{"l":{…},"since":"…"}},
//	 "seen":["<event id>",…],"seen_prev":[…]}
//
// vms are the levels the poll at t saw: the level of a VM at the start of
// the next window, and the last level of a VM deleted during it. gone are
// VMs that disappeared without a delete notification yet (billed up to
// their deletion when it arrives late, within one window). seen and
// seen_prev are the notification ids used in this and the previous window,
// so that a notification delivered again after a crash is not applied
// twice.
type state struct {
	V        int                 `json:"v"`
	T        time.Time           `json:"t"`
	VMs      map[string]level    `json:"vms,omitempty"`
	Gone     map[string]vanished `json:"gone,omitempty"`
	Seen     []string            `json:"seen,omitempty"`
	SeenPrev []string            `json:"seen_prev,omitempty"`
}

// level is a VM's billable configuration at one time.
type level struct {
	Customer string `json:"c"`
	Org      string `json:"o"`
	Vdc      string `json:"d"`
	Model    string `json:"a,omitempty"` // allocation model of its VDC
	CPU      int64  `json:"cpu"`
	MemMB    int64  `json:"mem"`
	StorMB   int64  `json:"st"`
	Policy   string `json:"p,omitempty"`
	On       bool   `json:"on,omitempty"`
}

type vanished struct {
	Level level     `json:"l"`
	Since time.Time `json:"since"`
}

const cursorVersion = 1

func parseCursor(c collector.Cursor) (state, error) {
	var s state
	if c == "" {
		return s, nil
	}
	if err := json.Unmarshal([]byte(c), &s); err != nil {
		return s, fmt.Errorf("cursor: %w", err)
	}
	if s.V != cursorVersion || s.T.IsZero() {
		return s, fmt.Errorf("cursor: version %d at %v is not one this source writes", s.V, s.T)
	}
	return s, nil
}

func (s state) cursor() (collector.Cursor, error) {
	s.V = cursorVersion
	b, err := json.Marshal(s)
	if err != nil {
		return "", err
	}
	return collector.Cursor(b), nil
}
