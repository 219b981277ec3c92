"""Explorers that respond in the course pack and the decks without a kernel, where a finite set of settings
covers them.

At build time the explorer itself is built in this process, as the lesson builds it: its figures come from the
package's own builders through the explorer's own callback (``unet_lessons.viz.widgets.redraw`` sets the output
widget's ``outputs``, kernel or not). It is moved through every listed setting, and what its output shows at each
is stored in the page. ``_static/course-widgets.js`` shows the stored output when a reader moves a control.

A slider is precomputed at evenly spaced stops: the page's copy of its stored state gets that step, so a reader
can only reach a stop. Every other explorer still needs a kernel; the note above each says which kind it is.
"""

import itertools
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import ipywidgets as widgets
import nbformat

from unet_lessons.viz.style import use_course_style

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
PRECOMPUTED_MIME = "application/vnd.course.precomputed+json"
MODEL_REFERENCE = "IPY_MODEL_"


def _time_embedding_explorer() -> widgets.VBox:
    from unet_lessons.viz.block_widgets import time_embedding_explorer

    return time_embedding_explorer()


def _sneaker_trajectory_explorer() -> widgets.VBox:
    # Lesson 08's run: the course model, a sneaker, DDIM in 50 steps at w = 2, seed 0.
    from unet_lessons.course_files import load_course_model
    from unet_lessons.viz.generation_widgets import record_trajectory, trajectory_explorer

    model, schedule, _ = load_course_model()
    frames = record_trajectory(model, schedule, label=7, num_steps=50, guidance_scale=2, seed=0)
    return trajectory_explorer(frames, "A sneaker from noise")


@dataclass(frozen=True)
class Precomputed:
    """One explorer of one lesson, and the settings that cover it.

    * `lesson` - the notebook's stem, e.g. ``"02_time_embedding"``
    * `source` - the source of the cell that shows the explorer
    * `build` - builds the explorer as the lesson does
    * `settings` - per control (by its description), the values stored; a slider's must be evenly spaced
    """

    lesson: str
    source: str
    build: Callable[[], widgets.VBox]
    settings: dict[str, tuple]


EXPLORERS = (
    Precomputed("02_time_embedding", "time_embedding_explorer()", _time_embedding_explorer,
                {"t": tuple(range(0, 1000, 50)), "freq_shift": (0, 1)}),
    Precomputed("08_it_generates", 'trajectory_explorer(frames, "A sneaker from noise")',
                _sneaker_trajectory_explorer, {"step": tuple(range(50))}),
)


def _descendants(widget: widgets.Widget) -> Iterator[widgets.Widget]:
    yield widget
    for child in getattr(widget, "children", ()):
        yield from _descendants(child)


def _stored_descendants(state: dict, model_id: str) -> Iterator[str]:
    yield model_id
    for child in state[model_id]["state"].get("children", []):
        yield from _stored_descendants(state, child.removeprefix(MODEL_REFERENCE))


def _attribute(control: widgets.Widget) -> str:
    """The state attribute that holds a control's setting: a selection widget stores its index, others a value."""
    return "index" if "index" in control.keys else "value"


def precompute(explorer: Precomputed, notebook: nbformat.NotebookNode) -> dict:
    """The stored outputs of ``explorer`` for every combination of its settings, with the ids of its stored
    controls and output in ``notebook``. Raises ``ValueError`` if the notebook does not show it as listed.

    Sliders in ``notebook``'s stored state get the settings' step (the notebook is changed in place: pass the
    copy that is converted).
    """
    cell = next((cell for cell in notebook.cells if cell.cell_type == "code" and cell.source == explorer.source), None)
    views = [output["data"][WIDGET_VIEW]["model_id"] for output in (cell or {}).get("outputs", [])
             if WIDGET_VIEW in output.get("data", {})]
    if not views:
        raise ValueError(f"{explorer.lesson}: no cell {explorer.source!r} with a stored explorer; update "
                         "classroom/precomputed.py to the lesson, or re-execute it (make notebooks).")
    state = notebook.metadata["widgets"][WIDGET_STATE]["state"]
    stored = {state[m]["state"].get("description"): m for m in _stored_descendants(state, views[0])}
    stored_output = next(m for m in _stored_descendants(state, views[0]) if state[m]["model_name"] == "OutputModel")

    use_course_style()
    built = explorer.build()
    live = {getattr(w, "description", None): w for w in _descendants(built)}
    output = next(w for w in _descendants(built) if isinstance(w, widgets.Output))
    controls = []
    for name, values in explorer.settings.items():
        if name not in live or name not in stored:
            raise ValueError(f"{explorer.lesson}: its explorer has no control {name!r}; update classroom/precomputed.py.")
        control = {"model": stored[name], "attribute": _attribute(live[name])}
        if isinstance(live[name], widgets.IntSlider):
            step = values[1] - values[0] if len(values) > 1 else 1
            if list(values) != list(range(values[0], values[-1] + 1, step)):
                raise ValueError(f"{explorer.lesson}: the values of slider {name!r} must be evenly spaced.")
            state[stored[name]]["state"].update(min=values[0], max=values[-1], step=step)
            control["step"] = step
        controls.append(control)
    outputs = {}
    for combination in itertools.product(*explorer.settings.values()):
        for name, value in zip(explorer.settings, combination):
            live[name].value = value
        key = [live[name].get_state()[control["attribute"]] for name, control in zip(explorer.settings, controls)]
        outputs[json.dumps(key, separators=(",", ":"))] = list(output.outputs)  # as JSON.stringify writes it
    return {"explorer": views[0], "controls": controls, "output": stored_output, "outputs": outputs}


def precomputed_scripts(lesson: str, notebook: nbformat.NotebookNode) -> str:
    """The ``<script>`` elements holding every precomputed explorer of ``lesson`` (empty if none)."""
    tables = [precompute(explorer, notebook) for explorer in EXPLORERS if explorer.lesson == lesson]
    # "</" never appears inside a script's text: a figure's text cannot end the element early.
    texts = [json.dumps(table).replace("</", "<\\/") for table in tables]
    return "".join(f'<script type="{PRECOMPUTED_MIME}">{text}</script>\n' for text in texts)
