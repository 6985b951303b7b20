package kernel

// Panic messages for programmer errors, in the manner of gonum's blas/gonum/errors.go.
// Callers validate user input (files, images, model configs) before reaching the
// kernels, so a panic here means a bug in the caller.
const (
	badTranspose    = "kernel: bad transpose"
	mLT0            = "kernel: m < 0"
	nLT0            = "kernel: n < 0"
	kLT0            = "kernel: k < 0"
	badLdA          = "kernel: bad leading dimension of A"
	badLdB          = "kernel: bad leading dimension of B"
	badLdC          = "kernel: bad leading dimension of C"
	shortA          = "kernel: insufficient length of a"
	shortB          = "kernel: insufficient length of b"
	shortC          = "kernel: insufficient length of c"
	badGeometry     = "kernel: geometry has a size < 1, a stride < 1 or a pad < 0"
	emptyOutput     = "kernel: geometry gives an output smaller than 1×1"
	shortSrc        = "kernel: insufficient length of src"
	shortDst        = "kernel: insufficient length of dst"
	shortWeight     = "kernel: insufficient length of weight"
	badShape        = "kernel: batch, channels or spatial < 0"
	shortX          = "kernel: insufficient length of x"
	shortParam      = "kernel: insufficient length of a per-channel parameter"
	badActivation   = "kernel: unknown activation"
	inexactGeometry = "kernel: convolution geometry leaves input rows or columns outside every window"
)
