# stacked.gp - exits per reason as stacked bars, one bar per configuration.
# Reads CSV written by `vtbench export --csv`:
#   config,REASON1,REASON2,...   (median count per repetition)
# Variables (gnuplot -e): infile, outbase, ncols (columns incl. the label),
# ytitle, ptitle.
set datafile separator ","
set datafile missing "NaN"
set style data histogram
set style histogram rowstacked
set style fill solid 0.8 border -1
set boxwidth 0.75
set key inside top right vertical noenhanced opaque box
set xtics rotate by 90 right noenhanced font ",9"
set ylabel ytitle noenhanced
set title ptitle noenhanced
set grid ytics
set yrange [0:*]
set offsets graph 0, graph 0, graph 0.08, 0
set terminal pngcairo size 1100,700 noenhanced font ",10"
set output outbase.".png"
plot for [i=2:ncols] infile using i:xtic(1) title columnheader(i)
set terminal svg size 1100,700 noenhanced font ",10"
set output outbase.".svg"
replot
set output
