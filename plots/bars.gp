# bars.gp - clustered bars with error bars: one cluster per workload, one
# bar per mode. Reads CSV written by `vtbench export --csv`:
#   label,MODE1,MODE1_lo,MODE1_hi,MODE2,MODE2_lo,MODE2_hi,...
# Variables (gnuplot -e): infile, outbase (writes outbase.png and .svg),
# nseries (number of modes), ytitle, ptitle, logy (1: log scale), refline
# (draw y = 1, for ratios).
if (!exists("logy")) logy = 0
if (!exists("refline")) refline = 0
set datafile separator ","
set datafile missing "NaN"
set style data histogram
set style histogram errorbars gap 2 lw 1
set style fill solid 0.75 border -1
set boxwidth 0.9
set key inside top right vertical noenhanced opaque box
set xtics rotate by 90 right noenhanced font ",9"
set ylabel ytitle noenhanced
set title ptitle noenhanced
set grid ytics
set yrange [0:*]
set offsets graph 0, graph 0, graph 0.08, 0
if (logy) { set logscale y; set yrange [*:*] }
if (refline) { set arrow 1 from graph 0, first 1 to graph 1, first 1 nohead dt 2 lw 2 lc rgb "#444444" front }
set terminal pngcairo size 1100,700 noenhanced font ",10"
set output outbase.".png"
plot for [i=1:nseries] infile using (column(3*i-1)):(column(3*i)):(column(3*i+1)):xtic(1) title columnheader(3*i-1)
set terminal svg size 1100,700 noenhanced font ",10"
set output outbase.".svg"
replot
set output
