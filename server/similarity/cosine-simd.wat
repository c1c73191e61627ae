;; Batch cosine over float32 vectors with WebAssembly SIMD (128-bit), assembled from this file by the `wabt`
;; npm package at load time (server/similarity/wasm-kernel.ts). Layout in linear memory, all set up by the
;; caller: query (dims f32), matrix (count × dims f32, row-major), out (count f64 similarities), norms (count
;; f32: each row's squared norm as summed here, so the caller can spot rows float32 cannot handle and redo
;; them in float64). Sums are float32 in 16 SIMD lanes per row; the final division is float64.

(module
  (memory (export "memory") 1)

  ;; Horizontal sum of the four lanes.
  (func $hsum (param $v v128) (result f32)
    (f32.add
      (f32.add (f32x4.extract_lane 0 (local.get $v)) (f32x4.extract_lane 1 (local.get $v)))
      (f32.add (f32x4.extract_lane 2 (local.get $v)) (f32x4.extract_lane 3 (local.get $v)))))

  ;; d / sqrt(qq · mm) clamped to [-1, 1], in float64 so qq · mm cannot overflow.
  (func $score (param $d f32) (param $mm f32) (param $qq f64) (result f64)
    (f64.max (f64.const -1)
      (f64.min (f64.const 1)
        (f64.div (f64.promote_f32 (local.get $d))
          (f64.sqrt (f64.mul (local.get $qq) (f64.promote_f32 (local.get $mm))))))))

  ;; Rows [from, to) of any width: 32 floats per step in 4 + 4 accumulators, then 4 at a time, then scalars.
  (func $rows (param $q i32) (param $m i32) (param $dims i32) (param $from i32) (param $to i32)
              (param $out i32) (param $norms i32) (param $qq f64)
    (local $r i32) (local $p i32) (local $i i32) (local $end32 i32) (local $end4 i32)
    (local $pp i32) (local $qp i32) (local $pend i32)
    (local $d0 v128) (local $d1 v128) (local $d2 v128) (local $d3 v128)
    (local $n0 v128) (local $n1 v128) (local $n2 v128) (local $n3 v128)
    (local $x v128) (local $d f32) (local $mm f32) (local $xs f32) (local $qs f32)
    (local.set $end32 (i32.and (local.get $dims) (i32.const -32)))
    (local.set $end4 (i32.and (local.get $dims) (i32.const -4)))
    (local.set $r (local.get $from))
    (local.set $p (i32.add (local.get $m) (i32.mul (i32.mul (local.get $from) (local.get $dims)) (i32.const 4))))
    (block $done
      (loop $row
        (br_if $done (i32.ge_u (local.get $r) (local.get $to)))
        (local.set $d0 (v128.const i32x4 0 0 0 0))
        (local.set $d1 (v128.const i32x4 0 0 0 0))
        (local.set $d2 (v128.const i32x4 0 0 0 0))
        (local.set $d3 (v128.const i32x4 0 0 0 0))
        (local.set $n0 (v128.const i32x4 0 0 0 0))
        (local.set $n1 (v128.const i32x4 0 0 0 0))
        (local.set $n2 (v128.const i32x4 0 0 0 0))
        (local.set $n3 (v128.const i32x4 0 0 0 0))
        ;; 32 floats per step through moving pointers (no index arithmetic per load); each accumulator takes
        ;; two of the eight vectors, so each add chain has a full step of other work to hide its latency behind.
        (local.set $pp (local.get $p))
        (local.set $qp (local.get $q))
        (local.set $pend (i32.add (local.get $p) (i32.shl (local.get $end32) (i32.const 2))))
        (block $end32b
          (loop $wide
            (br_if $end32b (i32.ge_u (local.get $pp) (local.get $pend)))
            (local.set $x (v128.load offset=0 (local.get $pp)))
            (local.set $d0 (f32x4.add (local.get $d0) (f32x4.mul (local.get $x) (v128.load offset=0 (local.get $qp)))))
            (local.set $n0 (f32x4.add (local.get $n0) (f32x4.mul (local.get $x) (local.get $x))))
            (local.set $x (v128.load offset=16 (local.get $pp)))
            (local.set $d1 (f32x4.add (local.get $d1) (f32x4.mul (local.get $x) (v128.load offset=16 (local.get $qp)))))
            (local.set $n1 (f32x4.add (local.get $n1) (f32x4.mul (local.get $x) (local.get $x))))
            (local.set $x (v128.load offset=32 (local.get $pp)))
            (local.set $d2 (f32x4.add (local.get $d2) (f32x4.mul (local.get $x) (v128.load offset=32 (local.get $qp)))))
            (local.set $n2 (f32x4.add (local.get $n2) (f32x4.mul (local.get $x) (local.get $x))))
            (local.set $x (v128.load offset=48 (local.get $pp)))
            (local.set $d3 (f32x4.add (local.get $d3) (f32x4.mul (local.get $x) (v128.load offset=48 (local.get $qp)))))
            (local.set $n3 (f32x4.add (local.get $n3) (f32x4.mul (local.get $x) (local.get $x))))
            (local.set $x (v128.load offset=64 (local.get $pp)))
            (local.set $d0 (f32x4.add (local.get $d0) (f32x4.mul (local.get $x) (v128.load offset=64 (local.get $qp)))))
            (local.set $n0 (f32x4.add (local.get $n0) (f32x4.mul (local.get $x) (local.get $x))))
            (local.set $x (v128.load offset=80 (local.get $pp)))
            (local.set $d1 (f32x4.add (local.get $d1) (f32x4.mul (local.get $x) (v128.load offset=80 (local.get $qp)))))
            (local.set $n1 (f32x4.add (local.get $n1) (f32x4.mul (local.get $x) (local.get $x))))
            (local.set $x (v128.load offset=96 (local.get $pp)))
            (local.set $d2 (f32x4.add (local.get $d2) (f32x4.mul (local.get $x) (v128.load offset=96 (local.get $qp)))))
            (local.set $n2 (f32x4.add (local.get $n2) (f32x4.mul (local.get $x) (local.get $x))))
            (local.set $x (v128.load offset=112 (local.get $pp)))
            (local.set $d3 (f32x4.add (local.get $d3) (f32x4.mul (local.get $x) (v128.load offset=112 (local.get $qp)))))
            (local.set $n3 (f32x4.add (local.get $n3) (f32x4.mul (local.get $x) (local.get $x))))
            (local.set $pp (i32.add (local.get $pp) (i32.const 128)))
            (local.set $qp (i32.add (local.get $qp) (i32.const 128)))
            (br $wide)))
        (local.set $i (local.get $end32))
        (block $end4b
          (loop $narrow
            (br_if $end4b (i32.ge_u (local.get $i) (local.get $end4)))
            (local.set $x (v128.load (i32.add (local.get $p) (i32.shl (local.get $i) (i32.const 2)))))
            (local.set $d0 (f32x4.add (local.get $d0)
              (f32x4.mul (local.get $x) (v128.load (i32.add (local.get $q) (i32.shl (local.get $i) (i32.const 2)))))))
            (local.set $n0 (f32x4.add (local.get $n0) (f32x4.mul (local.get $x) (local.get $x))))
            (local.set $i (i32.add (local.get $i) (i32.const 4)))
            (br $narrow)))
        (local.set $d (call $hsum (f32x4.add (f32x4.add (local.get $d0) (local.get $d1)) (f32x4.add (local.get $d2) (local.get $d3)))))
        (local.set $mm (call $hsum (f32x4.add (f32x4.add (local.get $n0) (local.get $n1)) (f32x4.add (local.get $n2) (local.get $n3)))))
        (block $tailb
          (loop $tail
            (br_if $tailb (i32.ge_u (local.get $i) (local.get $dims)))
            (local.set $xs (f32.load (i32.add (local.get $p) (i32.shl (local.get $i) (i32.const 2)))))
            (local.set $qs (f32.load (i32.add (local.get $q) (i32.shl (local.get $i) (i32.const 2)))))
            (local.set $d (f32.add (local.get $d) (f32.mul (local.get $xs) (local.get $qs))))
            (local.set $mm (f32.add (local.get $mm) (f32.mul (local.get $xs) (local.get $xs))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $tail)))
        (f32.store (i32.add (local.get $norms) (i32.shl (local.get $r) (i32.const 2))) (local.get $mm))
        (f64.store (i32.add (local.get $out) (i32.shl (local.get $r) (i32.const 3)))
          (call $score (local.get $d) (local.get $mm) (local.get $qq)))
        (local.set $p (i32.add (local.get $p) (i32.shl (local.get $dims) (i32.const 2))))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $row))))

  ;; Rows of exactly 8 floats, four rows per step: the per-row horizontal sums are done for four rows at once
  ;; with two shuffle-add rounds (a 4 × 4 transpose), and the four scores in two f64x2 halves.
  (func $rows8 (param $q i32) (param $m i32) (param $count4 i32) (param $out i32) (param $norms i32) (param $qq f64)
    (local $r i32) (local $p i32) (local $o i32) (local $nrm i32)
    (local $qlo v128) (local $qhi v128) (local $invq v128)
    (local $a v128) (local $b v128)
    (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128)
    (local $u0 v128) (local $u1 v128) (local $u2 v128) (local $u3 v128)
    (local $dot v128) (local $mm v128)
    (local.set $qlo (v128.load (local.get $q)))
    (local.set $qhi (v128.load offset=16 (local.get $q)))
    (local.set $invq (f32x4.splat (f32.demote_f64 (f64.div (f64.const 1) (f64.sqrt (local.get $qq))))))
    (local.set $p (local.get $m))
    (local.set $o (local.get $out))
    (local.set $nrm (local.get $norms))
    (block $done
      (loop $step
        (br_if $done (i32.ge_u (local.get $r) (local.get $count4)))
        ;; per row: t = 4 partial dot sums, u = 4 partial squared-norm sums
        (local.set $a (v128.load (local.get $p)))
        (local.set $b (v128.load offset=16 (local.get $p)))
        (local.set $t0 (f32x4.add (f32x4.mul (local.get $a) (local.get $qlo)) (f32x4.mul (local.get $b) (local.get $qhi))))
        (local.set $u0 (f32x4.add (f32x4.mul (local.get $a) (local.get $a)) (f32x4.mul (local.get $b) (local.get $b))))
        (local.set $a (v128.load offset=32 (local.get $p)))
        (local.set $b (v128.load offset=48 (local.get $p)))
        (local.set $t1 (f32x4.add (f32x4.mul (local.get $a) (local.get $qlo)) (f32x4.mul (local.get $b) (local.get $qhi))))
        (local.set $u1 (f32x4.add (f32x4.mul (local.get $a) (local.get $a)) (f32x4.mul (local.get $b) (local.get $b))))
        (local.set $a (v128.load offset=64 (local.get $p)))
        (local.set $b (v128.load offset=80 (local.get $p)))
        (local.set $t2 (f32x4.add (f32x4.mul (local.get $a) (local.get $qlo)) (f32x4.mul (local.get $b) (local.get $qhi))))
        (local.set $u2 (f32x4.add (f32x4.mul (local.get $a) (local.get $a)) (f32x4.mul (local.get $b) (local.get $b))))
        (local.set $a (v128.load offset=96 (local.get $p)))
        (local.set $b (v128.load offset=112 (local.get $p)))
        (local.set $t3 (f32x4.add (f32x4.mul (local.get $a) (local.get $qlo)) (f32x4.mul (local.get $b) (local.get $qhi))))
        (local.set $u3 (f32x4.add (f32x4.mul (local.get $a) (local.get $a)) (f32x4.mul (local.get $b) (local.get $b))))
        ;; transpose-add: [t0 t1 t2 t3] → one vector of the four row sums
        (local.set $a (f32x4.add
          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t1))
          (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t1))))
        (local.set $b (f32x4.add
          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t2) (local.get $t3))
          (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t2) (local.get $t3))))
        (local.set $dot (f32x4.add
          (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (local.get $a) (local.get $b))
          (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (local.get $a) (local.get $b))))
        (local.set $a (f32x4.add
          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $u0) (local.get $u1))
          (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $u0) (local.get $u1))))
        (local.set $b (f32x4.add
          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $u2) (local.get $u3))
          (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $u2) (local.get $u3))))
        (local.set $mm (f32x4.add
          (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (local.get $a) (local.get $b))
          (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (local.get $a) (local.get $b))))
        (v128.store (local.get $nrm) (local.get $mm))
        ;; four scores at once in float32: (d · 1/|q|) / sqrt(mm) cannot overflow (|d| ≤ |q|·sqrt(mm)); then
        ;; widened to float64 for the caller, rows 0–1 and rows 2–3
        (local.set $dot (f32x4.max (f32x4.splat (f32.const -1)) (f32x4.min (f32x4.splat (f32.const 1))
          (f32x4.div (f32x4.mul (local.get $dot) (local.get $invq)) (f32x4.sqrt (local.get $mm))))))
        (v128.store (local.get $o) (f64x2.promote_low_f32x4 (local.get $dot)))
        (v128.store offset=16 (local.get $o)
          (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $dot) (local.get $dot))))
        (local.set $p (i32.add (local.get $p) (i32.const 128)))
        (local.set $o (i32.add (local.get $o) (i32.const 32)))
        (local.set $nrm (i32.add (local.get $nrm) (i32.const 16)))
        (local.set $r (i32.add (local.get $r) (i32.const 4)))
        (br $step))))

  ;; The entry point: similarity of the query against every row; see the layout at the top of this file.
  (func (export "cosine_batch") (param $q i32) (param $m i32) (param $dims i32) (param $count i32)
                                (param $out i32) (param $norms i32) (param $qq f64)
    (local $count4 i32)
    (if (i32.eq (local.get $dims) (i32.const 8))
      (then
        (local.set $count4 (i32.and (local.get $count) (i32.const -4)))
        (call $rows8 (local.get $q) (local.get $m) (local.get $count4) (local.get $out) (local.get $norms) (local.get $qq))
        (call $rows (local.get $q) (local.get $m) (local.get $dims) (local.get $count4) (local.get $count)
          (local.get $out) (local.get $norms) (local.get $qq)))
      (else
        (call $rows (local.get $q) (local.get $m) (local.get $dims) (i32.const 0) (local.get $count)
          (local.get $out) (local.get $norms) (local.get $qq)))))

  ;; The plain memory-read baseline in the same instruction set: sum of `n` f32 (n a multiple of 16) with
  ;; four SIMD accumulators, so the benchmark can show the kernel against reading the bytes in SIMD too.
  (func (export "sum_f32") (param $p i32) (param $n i32) (result f32)
    (local $end i32) (local $s0 v128) (local $s1 v128) (local $s2 v128) (local $s3 v128)
    (local.set $end (i32.add (local.get $p) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $s0 (f32x4.add (local.get $s0) (v128.load (local.get $p))))
        (local.set $s1 (f32x4.add (local.get $s1) (v128.load offset=16 (local.get $p))))
        (local.set $s2 (f32x4.add (local.get $s2) (v128.load offset=32 (local.get $p))))
        (local.set $s3 (f32x4.add (local.get $s3) (v128.load offset=48 (local.get $p))))
        (local.set $p (i32.add (local.get $p) (i32.const 64)))
        (br $l)))
    (call $hsum (f32x4.add (f32x4.add (local.get $s0) (local.get $s1)) (f32x4.add (local.get $s2) (local.get $s3)))))
)
