package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"
	"time"
)

const alarmsUsage = `Usage: mirador alarms COMMAND [ARGS] [flags]

Commands:
  list                        alarms and their state (--state ALARM, --prefix p)
  get NAME                    one alarm: configuration, state, reason
  put NAME --file alarm.json  create or replace an alarm from JSON (- reads stdin), e.g.
                              {"query":"max(rate(http_errors_total[5m]))","periodSeconds":60,
                               "evaluationPeriods":3,"datapointsToAlarm":2,
                               "comparisonOperator":"GreaterThanThreshold","threshold":1,
                               "alarmActions":["oncall"],"okActions":["oncall"]}
  delete NAME                 delete an alarm (its history stays)
  history [NAME]              state changes, actions and configuration updates, newest first
  set-state NAME STATE        force OK, ALARM or INSUFFICIENT_DATA to test actions (--reason)
  enable NAME | disable NAME  turn the alarm's actions on or off

Flags:
`

// runAlarms implements `mirador alarms`.
func runAlarms(ctx context.Context, args, environ []string, stdout io.Writer) error {
	sub, args, err := subcommand(args, "alarms", "list, get, put, delete, history, set-state, enable or disable", alarmsUsage, stdout)
	if err != nil {
		return err
	}
	cf := newClientFlags("mirador alarms "+sub, alarmsUsage, "", environ)
	fs := cf.fs
	output := fs.String("output", "table", "output format, table or json")
	file := fs.String("file", "", "put: the alarm as JSON; - reads stdin")
	state := fs.String("state", "", "list: only alarms in this state")
	prefix := fs.String("prefix", "", "list: only names starting with this")
	reason := fs.String("reason", "set by mirador alarms set-state", "set-state: the reason recorded")
	kind := fs.String("type", "", "history: ConfigurationUpdate, StateUpdate or Action")
	limit := fs.Int("limit", 50, "history: most items shown")
	timeout := fs.Duration("timeout", time.Minute, "give up after this long")
	positional, err := cf.parse(args, stdout)
	if err != nil {
		return err
	}
	if *output != "table" && *output != "json" {
		return fmt.Errorf("--output %q: use table or json", *output)
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	c := cf.client()
	name := func() (string, error) {
		if len(positional) == 0 {
			return "", fmt.Errorf("%s needs an alarm name: mirador alarms %s NAME", sub, sub)
		}
		return "/api/v1/alarms/" + url.PathEscape(positional[0]), nil
	}
	var resp struct {
		Data json.RawMessage `json:"data"`
	}
	switch sub {
	case "list":
		q := url.Values{}
		if *state != "" {
			q.Set("state", *state)
		}
		if *prefix != "" {
			q.Set("prefix", *prefix)
		}
		if err := c.do(ctx, "GET", "/api/v1/alarms?"+q.Encode(), nil, &resp); err != nil {
			return err
		}
		if *output == "json" {
			return writeIndented(stdout, resp.Data)
		}
		var d struct{ Alarms []alarmRow }
		if err := json.Unmarshal(resp.Data, &d); err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tKIND\tSTATE\tSINCE\tREASON")
		for _, a := range d.Alarms {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", a.Name, a.Kind, a.State, a.StateTransitionedAt.Local().Format(time.DateTime), oneLine(a.StateReason, 100))
		}
		return tw.Flush()
	case "get", "delete", "enable", "disable", "set-state", "put":
		path, err := name()
		if err != nil {
			return err
		}
		var method string
		var body any
		switch sub {
		case "get":
			method = "GET"
		case "delete":
			method = "DELETE"
		case "enable", "disable":
			method, path, body = "POST", path+"/actions", map[string]bool{"enabled": sub == "enable"}
		case "set-state":
			if len(positional) != 2 {
				return errors.New("usage: mirador alarms set-state NAME OK|ALARM|INSUFFICIENT_DATA [--reason text]")
			}
			method, path, body = "POST", path+"/state", map[string]string{"state": strings.ToUpper(positional[1]), "reason": *reason}
		case "put":
			raw, err := readFileArg(*file)
			if err != nil {
				return err
			}
			method, body = "PUT", raw
		}
		if err := c.do(ctx, method, path, body, &resp); err != nil {
			return err
		}
		if *output == "json" || sub == "get" {
			return writeIndented(stdout, resp.Data)
		}
		var a alarmRow
		_ = json.Unmarshal(resp.Data, &a)
		if sub == "delete" {
			fmt.Fprintf(stdout, "deleted %s\n", positional[0])
			return nil
		}
		fmt.Fprintf(stdout, "%s: %s (%s)\n", a.Name, a.State, oneLine(a.StateReason, 200))
		return nil
	case "history":
		path := "/api/v1/alarm-history"
		if len(positional) > 0 {
			path = "/api/v1/alarms/" + url.PathEscape(positional[0]) + "/history"
		}
		q := url.Values{"limit": {fmt.Sprint(*limit)}}
		if *kind != "" {
			q.Set("type", *kind)
		}
		if err := c.do(ctx, "GET", path+"?"+q.Encode(), nil, &resp); err != nil {
			return err
		}
		if *output == "json" {
			return writeIndented(stdout, resp.Data)
		}
		var d struct {
			Items []struct {
				AlarmName, HistoryItemType, HistorySummary string
				Timestamp                                  time.Time
			}
		}
		if err := json.Unmarshal(resp.Data, &d); err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "TIME\tALARM\tTYPE\tSUMMARY")
		for _, it := range d.Items {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", it.Timestamp.Local().Format(time.DateTime), it.AlarmName, it.HistoryItemType, oneLine(it.HistorySummary, 120))
		}
		return tw.Flush()
	}
	return fmt.Errorf("unknown alarms command %q: use list, get, put, delete, history, set-state, enable or disable", sub)
}

type alarmRow struct {
	Name, Kind, State, StateReason string
	StateTransitionedAt            time.Time
}

// readFileArg reads a JSON document from a file or, for "-", stdin.
func readFileArg(path string) (json.RawMessage, error) {
	var b []byte
	var err error
	switch path {
	case "":
		return nil, errors.New("put needs the alarm: --file alarm.json (or --file - for stdin)")
	case "-":
		b, err = io.ReadAll(os.Stdin)
	default:
		b, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, err
	}
	if !json.Valid(b) {
		return nil, fmt.Errorf("%s is not valid JSON", path)
	}
	return b, nil
}

func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
