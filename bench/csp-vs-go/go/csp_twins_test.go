// Package csptwins holds the Go side of bench/csp-vs-go: one benchmark per case of otlpd's
// csp/csp_bench.cc. BenchmarkX here and BM_X there do the same work per iteration (the same
// channel capacities, goroutine counts and operations), so their ns/op can be divided. When a
// case changes on one side, change its twin on the other.
//
// Only the standard library is used, so `go test` needs nothing beyond Debian's golang-go.
package csptwins

import (
	"context"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// One goroutine puts a value into a channel with room for 128 and takes it back out: the
// buffered fast path, no other goroutine involved.
func BenchmarkChanBufferedUncontended(b *testing.B) {
	ch := make(chan int, 128)
	for i := 0; i < b.N; i++ {
		ch <- i
		<-ch
	}
}

// A value goes to an echo goroutine over one unbuffered channel and comes back over another:
// two rendezvous and two switches per iteration.
func BenchmarkChanUnbufferedPingPong(b *testing.B) {
	ping := make(chan int)
	pong := make(chan int)
	var echoDone sync.WaitGroup
	echoDone.Add(1)
	go func() {
		defer echoDone.Done()
		for v := range ping {
			pong <- v
		}
	}()
	for i := 0; i < b.N; i++ {
		ping <- i
		<-pong
	}
	close(ping)
	echoDone.Wait()
}

// The benchmark goroutine fills a channel of capacity 1024 that one consumer drains.
func BenchmarkChanProdCons1024(b *testing.B) {
	ch := make(chan int, 1024)
	drained := make(chan struct{})
	go func() {
		for range ch {
		}
		close(drained)
	}()
	for i := 0; i < b.N; i++ {
		ch <- i
	}
	close(ch)
	<-drained
}

// Four consumers stay on one channel of capacity 1024 for the whole run; items arrive in
// batches of mpmcBatch, each batch sent by four fresh producers that split it evenly (the C++
// side counts iterations in the same batches).
const mpmcBatch = 1 << 14

func BenchmarkChanMPMC4x4(b *testing.B) {
	ch := make(chan int, 1024)
	var consumers sync.WaitGroup
	consumers.Add(4)
	for c := 0; c < 4; c++ {
		go func() {
			defer consumers.Done()
			for range ch {
			}
		}()
	}
	for sent := 0; sent < b.N; sent += mpmcBatch {
		var producers sync.WaitGroup
		producers.Add(4)
		for p := 0; p < 4; p++ {
			go func() {
				defer producers.Done()
				for i := 0; i < mpmcBatch/4; i++ {
					ch <- i
				}
			}()
		}
		producers.Wait()
	}
	close(ch)
	consumers.Wait()
}

// select with three receive cases, two buffered(1) channels and a cancellable context's Done,
// where the first channel was just given a value.
func BenchmarkSelect3Ready(b *testing.B) {
	a := make(chan int, 1)
	c := make(chan int, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := ctx.Done()
	for i := 0; i < b.N; i++ {
		a <- i
		select {
		case <-a:
		case <-c:
		case <-done:
		}
	}
}

// A non-blocking select: two empty unbuffered channels and a default.
func BenchmarkSelectDefault(b *testing.B) {
	a := make(chan int)
	c := make(chan int)
	for i := 0; i < b.N; i++ {
		select {
		case <-a:
		case <-c:
		default:
		}
	}
}

// Start a goroutine that only signals a WaitGroup; wait for all of them at the end.
func BenchmarkGoSpawnJoin(b *testing.B) {
	var wg sync.WaitGroup
	for i := 0; i < b.N; i++ {
		wg.Add(1)
		go wg.Done()
	}
	wg.Wait()
}

// Derive a cancellable context from the background one and cancel it at once.
func BenchmarkContextWithCancel(b *testing.B) {
	root := context.Background()
	for i := 0; i < b.N; i++ {
		_, cancel := context.WithCancel(root)
		cancel()
	}
}

// --- The cases a collector lives on -------------------------------------------------------

// Eight buffered(1) channels; each iteration puts a value into one of them (a different one
// every time, in turn) and selects over all eight.
func BenchmarkSelect8OneReady(b *testing.B) {
	var c [8]chan int
	for k := range c {
		c[k] = make(chan int, 1)
	}
	for i := 0; i < b.N; i++ {
		c[i&7] <- i
		select {
		case <-c[0]:
		case <-c[1]:
		case <-c[2]:
		case <-c[3]:
		case <-c[4]:
		case <-c[5]:
		case <-c[6]:
		case <-c[7]:
		}
	}
}

// Up to timerBatch timers are pending at once in the timer cases. fireDelay is how far ahead
// the fired ones are set; stopDelay keeps the stopped ones from firing before they are stopped.
const (
	timerBatch = 100_000
	fireDelay  = time.Millisecond
	stopDelay  = 250 * time.Millisecond
)

// Arm a batch of time.After timers, then receive from each channel. ns per timer.
func BenchmarkTimerFire100k(b *testing.B) {
	fired := make([]<-chan time.Time, 0, timerBatch)
	for done := 0; done < b.N; {
		n := b.N - done
		if n > timerBatch {
			n = timerBatch
		}
		for i := 0; i < n; i++ {
			fired = append(fired, time.After(fireDelay))
		}
		for _, ch := range fired {
			<-ch
		}
		fired = fired[:0]
		done += n
	}
}

// Arm a batch of time.NewTimer timers, then stop each. ns per timer (arm + stop).
func BenchmarkTimerStop100k(b *testing.B) {
	timers := make([]*time.Timer, 0, timerBatch)
	for done := 0; done < b.N; {
		n := b.N - done
		if n > timerBatch {
			n = timerBatch
		}
		for i := 0; i < n; i++ {
			timers = append(timers, time.NewTimer(stopDelay))
		}
		for _, t := range timers {
			t.Stop()
		}
		timers = timers[:0]
		done += n
	}
}

// Four stages joined by three channels of capacity stageQueue. The benchmark goroutine makes
// a fresh 1 KiB slice per iteration and sends it; two middle stages each write one byte of it
// and pass it on; the last stage reads it and lets it go. ns per value through the pipeline.
const (
	valueBytes = 1024
	stageQueue = 64
)

func passOn(in <-chan []byte, out chan<- []byte, stamp byte) {
	for v := range in {
		v[1] = stamp
		out <- v
	}
	close(out)
}

func BenchmarkPipeline4Stages1KiB(b *testing.B) {
	first := make(chan []byte, stageQueue)
	second := make(chan []byte, stageQueue)
	third := make(chan []byte, stageQueue)
	drained := make(chan struct{})
	var sum uint64
	go passOn(first, second, 2)
	go passOn(second, third, 3)
	go func() {
		for v := range third {
			sum += uint64(v[0] ^ v[1])
		}
		close(drained)
	}()
	for i := 0; i < b.N; i++ {
		v := make([]byte, valueBytes)
		v[0] = byte(i)
		first <- v
	}
	close(first)
	<-drained
	_ = sum
}

// residentBytes reads this process's resident set size from /proc/self/statm, as the C++
// twin does.
func residentBytes(b *testing.B) int64 {
	raw, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		b.Fatal(err)
	}
	fields := strings.Fields(string(raw))
	pages, err := strconv.ParseInt(fields[1], 10, 64)
	if err != nil {
		b.Fatal(err)
	}
	return pages * int64(os.Getpagesize())
}

// parked goroutines in the memory case, each blocked on a receive from its own channel.
const parked = 100_000

// Growth of the resident set from before the channels are made until all goroutines have
// started and reached their receive, divided by the number of goroutines: a goroutine, its
// unbuffered channel and its slot in the slice. Reported as B/goroutine; ns/op is the time to
// make, park and release them all. The figure is only meaningful in a process that has done
// nothing before (memory freed by earlier benchmarks would be reused without growing the
// resident set), so the case runs only when CSP_TWINS_MEMORY is set; bench/csp-vs-go/run sets
// it for a separate process with -test.benchtime 1x.
func BenchmarkParkedGoroutineMemory(b *testing.B) {
	if os.Getenv("CSP_TWINS_MEMORY") == "" {
		b.Skip("set CSP_TWINS_MEMORY=1 and run this case alone (see its comment)")
	}
	var perGoroutine float64
	for i := 0; i < b.N; i++ {
		runtime.GC()
		debug.FreeOSMemory()
		before := residentBytes(b)
		inboxes := make([]chan int, 0, parked)
		var started, finished sync.WaitGroup
		started.Add(parked)
		finished.Add(parked)
		for k := 0; k < parked; k++ {
			inbox := make(chan int)
			inboxes = append(inboxes, inbox)
			go func() {
				started.Done()
				<-inbox
				finished.Done()
			}()
		}
		started.Wait()
		perGoroutine = float64(residentBytes(b)-before) / parked
		for _, inbox := range inboxes {
			close(inbox)
		}
		finished.Wait()
	}
	b.ReportMetric(perGoroutine, "B/goroutine")
}
