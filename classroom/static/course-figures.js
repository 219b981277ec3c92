// Draws the lessons' stored plotly figures (application/vnd.plotly.v1+json outputs) with the local
// plotly.js, in the course pack's pages and in the slide decks. Widgets' outputs use the same function
// (course-widgets.js), so a figure looks the same wherever it is stored.
(function () {
  "use strict";
  var PLOTLY_MIME = "application/vnd.plotly.v1+json";
  // On a 720 px slide a figure shares the height with its cell's code: a taller figure is drawn at this
  // height (plotly lays it out for it); pages keep the stored size.
  var SLIDE_FIGURE_MAX_HEIGHT = 600;

  function drawPlotlyFigure(element, figure) {
    var layout = figure.layout || {};
    if (document.querySelector(".reveal") && (layout.height || 450) > SLIDE_FIGURE_MAX_HEIGHT) {
      layout = Object.assign({}, layout, {height: SLIDE_FIGURE_MAX_HEIGHT});
    }
    var config = Object.assign({responsive: true, displaylogo: false}, figure.config);
    // A figure in a hidden slide or a closed widget is drawn with no width. When it gets one, it is drawn
    // again from scratch: plotly keeps the legend height measured at the first drawing (at plotly's default
    // width, the legend wraps into more rows), and a legend below the plot stayed too high (it covered the
    // hourglass's bottom row). Later changes of width only resize it.
    var drawnWithWidth = element.offsetWidth > 0;
    new ResizeObserver(function () {
      if (!element.offsetWidth || !element.classList.contains("js-plotly-plot")) {
        return;
      }
      if (drawnWithWidth) {
        window.Plotly.Plots.resize(element);
      } else {
        drawnWithWidth = true;
        window.Plotly.purge(element);
        draw();
      }
    }).observe(element);
    // plotly writes into the layout and traces it draws (a first drawing with no width sets its height to
    // plotly's default): every drawing gets a fresh copy.
    function draw() {
      var copy = JSON.parse(JSON.stringify({data: figure.data, layout: layout}));
      return window.Plotly.newPlot(element, copy.data, copy.layout, config);
    }
    return draw();
  }

  window.courseDrawPlotlyFigure = drawPlotlyFigure;

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll('script[type="' + PLOTLY_MIME + '"]').forEach(function (tag) {
      var element = document.createElement("div");
      tag.parentElement.insertBefore(element, tag);
      drawPlotlyFigure(element, JSON.parse(tag.textContent));
    });
  });
}());
