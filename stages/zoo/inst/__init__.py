"""Instance segmentation (Mask RCNN): the detection package's RCNN with its mask head, scored by COCO box and
mask AP (stages/zoo/tasks.py)."""
