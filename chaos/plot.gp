# plot.gp: throughput and p99 of a chaos run, each kill marked in red.
# usage: gnuplot -e "dir='OUT'; what='KINDS'" chaos/plot.gp
# Reads OUT/timeseries.csv (t_ms,answered,retried,failed,p99_us,kills, one
# row per 100 ms) and writes OUT/plot.png and OUT/plot.svg.
set datafile separator ','
set datafile columnheaders
stats dir.'/timeseries.csv' using ($2*10) nooutput
top = STATS_max > 0 ? STATS_max * 1.1 : 1
set key top right
set xlabel 'time (s)'
set ylabel 'answered (req/s, per 100 ms window)'
set y2label 'p99 latency (ms)'
set ytics nomirror
set y2tics
set yrange [0:top]
set y2range [0:*]
set grid
if (!exists('what')) what = 'workers'
set title 'crashonly under chaos: each red line is a crash (SIGKILL) of one of: '.what
set style line 1 lw 2 lc rgb '#1f77b4'
set style line 2 lw 1 lc rgb '#2ca02c'
set style line 3 lw 1 lc rgb '#d62728'
set terminal pngcairo size 1000,500
set output dir.'/plot.png'
plot dir.'/timeseries.csv' using ($1/1000):($6 > 0 ? top : 1/0) \
        with impulses ls 3 title 'kill', \
     '' using ($1/1000):($2*10) with lines ls 1 title 'answered/s', \
     '' using ($1/1000):($5/1000) axes x1y2 with lines ls 2 \
        title 'p99 (ms)'
set terminal svg size 1000,500
set output dir.'/plot.svg'
replot
