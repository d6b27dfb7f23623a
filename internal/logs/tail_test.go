package logs

import (
	"strings"
	"testing"

	"github.com/miradorhq/mirador/internal/eventstore"
)

func TestTailHubFiltersByTenantGroupAndPattern(t *testing.T) {
	var h tailHub
	sub := h.subscribe("a", []string{"api"}, func(r *eventstore.Record) bool { return strings.Contains(r.Body, "ERROR") }, 10)
	defer sub.Close()
	h.publish("b", []eventstore.Record{{Group: "api", Body: "ERROR other tenant"}})
	h.publish("a", []eventstore.Record{{Group: "web", Body: "ERROR other group"}, {Group: "api", Body: "fine"}, {Group: "api", Body: "ERROR here"}})
	select {
	case r := <-sub.Records():
		if r.Body != "ERROR here" {
			t.Fatalf("got %q", r.Body)
		}
	default:
		t.Fatal("nothing delivered")
	}
	if n := len(sub.Records()); n != 0 {
		t.Fatalf("%d more records delivered", n)
	}
}

func TestTailHubNeverBlocksAndCountsMissed(t *testing.T) {
	var h tailHub
	sub := h.subscribe("a", nil, nil, 2)
	h.publish("a", make([]eventstore.Record, 5)) // would block if publish waited
	if len(sub.Records()) != 2 || sub.TakeMissed() != 3 || sub.TakeMissed() != 0 {
		t.Fatal("buffer or missed count wrong")
	}
	sub.Close()
	sub.Close()
	h.publish("a", make([]eventstore.Record, 1))
	if len(h.subs) != 0 {
		t.Fatal("closed subscription still registered")
	}
}
