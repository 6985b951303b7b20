package kernel

import "syscall/js"

// cpuSeconds asks Node for the CPU time of its process (process.cpuUsage, in
// µs): the Go program's thread plus V8's compiler and GC threads. In a browser
// there is no process object, and benchmarks report wall-clock throughput only.
func cpuSeconds() float64 {
	p := js.Global().Get("process")
	if p.Type() != js.TypeObject || p.Get("cpuUsage").Type() != js.TypeFunction {
		return -1
	}
	u := p.Call("cpuUsage")
	return (u.Get("user").Float() + u.Get("system").Float()) / 1e6
}
