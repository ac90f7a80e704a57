# cdf.gp - NMI/IRQ delivery latency as cumulative distributions: one line
# per configuration, fraction of deliveries (y) that took at most x.
# Reads CSV written by `vtbench export --csv` (events_KIND_BACKEND.csv): one
# block per configuration, blocks separated by two blank lines, each block
#   LABEL [MODE],fraction        <- header: the line's title
#   latency_ns,fraction          <- ascending
# Variables (gnuplot -e): infile, outbase (writes outbase.png and .svg),
# nseries (number of blocks), ptitle, xtitle, coarse (1: some blocks hold
# only the min/p50/p99/max quantiles: drawn as points joined by lines, not
# as a step function).
if (!exists("xtitle")) xtitle = "delivery latency (log scale)"
if (!exists("coarse")) coarse = 0
style = coarse ? "linespoints" : "steps"
set datafile separator ","
set logscale x 10
set format x "%.0s %cs"
set xlabel xtitle noenhanced
set ylabel "fraction of deliveries at or below x"
set yrange [0:1.02]
set ytics ("0" 0, "25%%" 0.25, "50%%" 0.5, "75%%" 0.75, "90%%" 0.9, "99%%" 0.99)
set title ptitle noenhanced font ",14"
set grid xtics ytics mxtics
set key outside bottom center horizontal noenhanced maxrows 4 spacing 1.2
set style line 1 lw 2.5 lc rgb "#1b9e77" pt 7 ps 1.2
set style line 2 lw 2.5 lc rgb "#d95f02" pt 7 ps 1.2
set style line 3 lw 2.5 lc rgb "#7570b3" pt 7 ps 1.2
set style line 4 lw 2.5 lc rgb "#e7298a" pt 7 ps 1.2
set style line 5 lw 2.5 lc rgb "#66a61e" pt 7 ps 1.2
set style line 6 lw 2.5 lc rgb "#e6ab02" pt 7 ps 1.2
set style increment user
set terminal pngcairo size 1100,650 noenhanced font ",12"
set output outbase.".png"
# x in seconds so the tick format prints ns/us/ms
plot for [i=0:nseries-1] infile index i using ($1/1e9):2 with @style ls (i % 6) + 1 title columnheader(1)
set terminal svg size 1100,650 noenhanced font ",12"
set output outbase.".svg"
replot
set output
