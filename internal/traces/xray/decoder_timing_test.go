package xray

import (
	"testing"
	"time"
)

// BenchmarkDecodeSegment decodes a realistic segment: an EC2 service with
// http, aws, sql and remote subsegments, annotations, metadata and a cause.
func BenchmarkDecodeSegment(b *testing.B) {
	doc := readTestdata(b, "segment.json")
	d := NewDecoder()
	now := time.Now()
	b.ReportAllocs()
	b.SetBytes(int64(len(doc)))
	spans := 0
	for b.Loop() {
		recs, err := d.Decode(doc, now)
		if err != nil {
			b.Fatal(err)
		}
		spans += len(recs)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "segments/s")
	b.ReportMetric(float64(spans)/b.Elapsed().Seconds(), "spans/s")
}

// BenchmarkDecodeSmallSegment is what most web requests send: one segment
// with an http block and a couple of subsegments.
func BenchmarkDecodeSmallSegment(b *testing.B) {
	doc := []byte(`{"trace_id":"1-58406520-a006649127e371903a2de979","id":"70de5b6f19ff9a0a","name":"api","start_time":1480615200.010123,"end_time":1480615200.090456,"http":{"request":{"method":"GET","url":"https://api.example.com/items/1","client_ip":"10.0.0.1","user_agent":"Go-http-client/1.1"},"response":{"status":200,"content_length":512}},"aws":{"xray":{"sdk":"X-Ray for Go","sdk_version":"1.8.5"}},"service":{"version":"1.0"},"subsegments":[{"id":"70de5b6f19ff9a0b","name":"load","start_time":1480615200.011,"end_time":1480615200.05},{"id":"70de5b6f19ff9a0c","name":"cache.example.com","namespace":"remote","start_time":1480615200.05,"end_time":1480615200.08,"http":{"request":{"method":"GET","url":"http://cache.example.com/k"},"response":{"status":200}}}]}`)
	d := NewDecoder()
	now := time.Now()
	b.ReportAllocs()
	b.SetBytes(int64(len(doc)))
	for b.Loop() {
		if _, err := d.Decode(doc, now); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "segments/s")
}
