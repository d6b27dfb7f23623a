package api

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/miradorhq/mirador/internal/notify"
	"github.com/miradorhq/mirador/internal/notify/filterpolicy"
	"github.com/miradorhq/mirador/internal/tenant"
)

func writeNotifyError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, notify.ErrInvalid), errors.Is(err, notify.ErrBadToken):
		writeError(w, http.StatusBadRequest, "%v", err)
	case errors.Is(err, notify.ErrTopicNotFound), errors.Is(err, notify.ErrSubscriptionNotFound):
		writeError(w, http.StatusNotFound, "%v", err)
	default:
		writeError(w, http.StatusInternalServerError, "%v", err)
	}
}

func (o Options) listTopics() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _ := tenant.FromContext(r.Context())
		ts, err := o.Notify.Topics(r.Context(), id)
		if err != nil {
			writeNotifyError(w, err)
			return
		}
		writeData(w, http.StatusOK, map[string]any{"topics": ts})
	})
}

// putTopic serves PUT /api/v1/topics/{name}: create or update, idempotent.
func (o Options) putTopic() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var t notify.Topic
		if r.ContentLength != 0 && !decodeJSON(w, r, &t) {
			return
		}
		t.Name = r.PathValue("name")
		id, _ := tenant.FromContext(r.Context())
		t, err := o.Notify.PutTopic(r.Context(), id, t)
		if err != nil {
			writeNotifyError(w, err)
			return
		}
		writeData(w, http.StatusOK, t)
	})
}

func (o Options) getTopic() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _ := tenant.FromContext(r.Context())
		t, err := o.Notify.Topic(r.Context(), id, r.PathValue("name"))
		if err != nil {
			writeNotifyError(w, err)
			return
		}
		writeData(w, http.StatusOK, t)
	})
}

func (o Options) deleteTopic() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _ := tenant.FromContext(r.Context())
		if err := o.Notify.DeleteTopic(r.Context(), id, r.PathValue("name")); err != nil {
			writeNotifyError(w, err)
			return
		}
		writeData(w, http.StatusOK, map[string]string{"deleted": r.PathValue("name")})
	})
}

// publish serves POST /api/v1/topics/{name}/publish.
func (o Options) publish() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Subject           string `json:"subject"`
			Message           string `json:"message"`
			MessageAttributes map[string]struct {
				DataType    string `json:"dataType"`
				StringValue string `json:"stringValue"`
			} `json:"messageAttributes"`
		}
		if !decodeJSON(w, r, &req) {
			return
		}
		m := notify.Message{Subject: req.Subject, Body: req.Message}
		if len(req.MessageAttributes) > 0 {
			m.Attributes = map[string]filterpolicy.Attribute{}
			for k, a := range req.MessageAttributes {
				m.Attributes[k] = filterpolicy.Attribute{DataType: a.DataType, Value: a.StringValue}
			}
		}
		id, _ := tenant.FromContext(r.Context())
		msgID, queued, err := o.Notify.Publish(r.Context(), id, r.PathValue("name"), m)
		if err != nil {
			writeNotifyError(w, err)
			return
		}
		writeData(w, http.StatusOK, map[string]any{"messageId": msgID, "deliveries": queued})
	})
}

func (o Options) listSubscriptions() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _ := tenant.FromContext(r.Context())
		subs, err := o.Notify.Subscriptions(r.Context(), id, r.PathValue("name"))
		if err != nil {
			writeNotifyError(w, err)
			return
		}
		writeData(w, http.StatusOK, map[string]any{"subscriptions": subs})
	})
}

// subscribe serves POST /api/v1/topics/{name}/subscriptions. The response
// carries the signing secret; no later response does.
func (o Options) subscribe() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var sub notify.Subscription
		if !decodeJSON(w, r, &sub) {
			return
		}
		id, _ := tenant.FromContext(r.Context())
		sub, err := o.Notify.Subscribe(r.Context(), id, r.PathValue("name"), sub)
		if err != nil {
			writeNotifyError(w, err)
			return
		}
		writeData(w, http.StatusCreated, sub)
	})
}

func (o Options) getSubscription() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _ := tenant.FromContext(r.Context())
		sub, err := o.Notify.Subscription(r.Context(), id, r.PathValue("id"))
		if err != nil {
			writeNotifyError(w, err)
			return
		}
		writeData(w, http.StatusOK, sub)
	})
}

func (o Options) unsubscribe() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _ := tenant.FromContext(r.Context())
		if err := o.Notify.Unsubscribe(r.Context(), id, r.PathValue("id")); err != nil {
			writeNotifyError(w, err)
			return
		}
		writeData(w, http.StatusOK, map[string]string{"deleted": r.PathValue("id")})
	})
}

// confirmSubscription serves GET /api/v1/subscriptions/confirm: the
// SubscribeURL of a confirmation message. The token is the credential, so
// the route needs no API key.
func (o Options) confirmSubscription() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("tenant") == "" || q.Get("id") == "" || q.Get("token") == "" {
			writeError(w, http.StatusBadRequest, "tenant, id and token are required: use the SubscribeURL of the confirmation message as it is")
			return
		}
		sub, err := o.Notify.Confirm(r.Context(), q.Get("tenant"), q.Get("id"), q.Get("token"))
		if err != nil {
			if errors.Is(err, notify.ErrSubscriptionNotFound) {
				err = notify.ErrBadToken // do not tell strangers which ids exist
			}
			writeNotifyError(w, err)
			return
		}
		writeData(w, http.StatusOK, map[string]string{"subscriptionArn": sub.ARN, "status": sub.Status})
	})
}

// listDeliveries serves GET /api/v1/deliveries?topic=&state=&messageId=&limit=.
func (o Options) listDeliveries() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		f := notify.DeliveryFilter{Topic: q.Get("topic"), State: q.Get("state"), MessageID: q.Get("messageId")}
		if v := q.Get("limit"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 1000 {
				writeError(w, http.StatusBadRequest, "limit %q: want 1 to 1000", v)
				return
			}
			f.Limit = n
		}
		switch f.State {
		case "", notify.StatePending, notify.StateDelivered, notify.StateDead:
		default:
			writeError(w, http.StatusBadRequest, "state %q: want pending, delivered or dead", f.State)
			return
		}
		id, _ := tenant.FromContext(r.Context())
		ds, err := o.Notify.Deliveries(r.Context(), id, f)
		if err != nil {
			writeNotifyError(w, err)
			return
		}
		writeData(w, http.StatusOK, map[string]any{"deliveries": ds})
	})
}

// redrive serves POST /api/v1/deliveries/redrive: one more attempt at a
// dead-lettered delivery.
func (o Options) redrive() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			MessageID      string `json:"messageId"`
			SubscriptionID string `json:"subscriptionId"`
		}
		if !decodeJSON(w, r, &req) {
			return
		}
		id, _ := tenant.FromContext(r.Context())
		if err := o.Notify.Redrive(r.Context(), id, req.MessageID, req.SubscriptionID); err != nil {
			writeNotifyError(w, err)
			return
		}
		writeData(w, http.StatusOK, map[string]string{"redriven": fmt.Sprintf("%s to %s", req.MessageID, req.SubscriptionID)})
	})
}
